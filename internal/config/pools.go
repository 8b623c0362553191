package config

import (
	"cmp"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
)

// Reasons a pool is not in force, for its Ready condition.
const (
	// ReasonOverlap: the pool shares addresses with an older pool, which
	// keeps working.
	ReasonOverlap = "Overlap"
	// ReasonInvalidAddresses: an address range does not parse.
	ReasonInvalidAddresses = "InvalidAddresses"
	// ReasonInvalidSelector: a label selector does not parse.
	ReasonInvalidSelector = "InvalidSelector"
)

// Problem says why a pool is not in force.
type Problem struct {
	Reason  string
	Message string
	// Other is the pool this one conflicts with (for ReasonOverlap).
	Other string
}

// Config is the allocator's view of the pools.
type Config struct {
	// Pools are the pools in force, oldest first. A pool being deleted is
	// included with Deleting set, so that its Services keep their IPs and
	// are counted, but it gives out no new address.
	Pools []ipam.Pool
	// Problems holds, by pool name, the pools that are not in force.
	Problems map[string]Problem
}

// Pools converts IPAddressPools into allocator pools. Pools are ordered by
// creationTimestamp, then name. A pool that overlaps an older valid pool, or
// that does not parse, is left out and reported in Problems.
func Pools(items []v1beta1.IPAddressPool) Config {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b v1beta1.IPAddressPool) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	cfg := Config{Problems: map[string]Problem{}}
	var valid []ipam.Pool
	for i := range sorted {
		item := &sorted[i]
		p, prob, ok := pool(item)
		if !ok {
			cfg.Problems[item.Name] = prob
			continue
		}
		valid = append(valid, p)
	}
	rejected := map[string]bool{}
	for _, o := range ipam.FindOverlaps(valid) {
		rejected[o.Pool] = true
		cfg.Problems[o.Pool] = Problem{
			Reason:  ReasonOverlap,
			Message: fmt.Sprintf("addresses overlap those of the older pool %q, which keeps them; this pool hands out no address", o.Older),
			Other:   o.Older,
		}
	}
	for _, p := range valid {
		if !rejected[p.Name] {
			cfg.Pools = append(cfg.Pools, p)
		}
	}
	return cfg
}

// pool converts one IPAddressPool.
func pool(item *v1beta1.IPAddressPool) (ipam.Pool, Problem, bool) {
	p := ipam.Pool{
		Name:          item.Name,
		AutoAssign:    item.Spec.AutoAssign == nil || *item.Spec.AutoAssign,
		AvoidBuggyIPs: item.Spec.AvoidBuggyIPs,
		Deleting:      !item.DeletionTimestamp.IsZero(),
	}
	for i, a := range item.Spec.Addresses {
		r, err := ipam.ParseRange(string(a))
		if err != nil {
			return ipam.Pool{}, Problem{Reason: ReasonInvalidAddresses, Message: err.Error()}, false
		}
		// MetalLB refuses a pool whose own entries overlap, and so do we:
		// such a pool says one thing twice, and usually means a typo.
		for j, q := range p.Ranges {
			if q.Overlaps(r) {
				return ipam.Pool{}, Problem{Reason: ReasonInvalidAddresses, Message: fmt.Sprintf(
					"addresses[%d] %q overlaps addresses[%d] %q of the same pool: list each address once", i, a, j, item.Spec.Addresses[j])}, false
			}
		}
		p.Ranges = append(p.Ranges, r)
		if ip, ok := ipam.SubnetRouterAnycast(string(a)); ok && !item.Spec.AllowSubnetRouterAnycast {
			p.Excluded = append(p.Excluded, ip)
		}
	}
	if sa := item.Spec.ServiceAllocation; sa != nil {
		p.Priority = int(sa.Priority)
		p.Namespaces = slices.Clone(sa.Namespaces)
		var err error
		if p.NamespaceSelectors, err = selectors("namespaceSelectors", sa.NamespaceSelectors); err != nil {
			return ipam.Pool{}, Problem{Reason: ReasonInvalidSelector, Message: err.Error()}, false
		}
		if p.ServiceSelectors, err = selectors("serviceSelectors", sa.ServiceSelectors); err != nil {
			return ipam.Pool{}, Problem{Reason: ReasonInvalidSelector, Message: err.Error()}, false
		}
	}
	return p, Problem{}, true
}

// selectors adapts Kubernetes label selectors to ipam selectors. As MetalLB
// does, it refuses a selector listed twice (compared in canonical form) and
// a value listed twice in one expression: they change nothing, so they are
// most likely a mistake in what was meant.
func selectors(field string, in []metav1.LabelSelector) ([]ipam.Selector, error) {
	out := make([]ipam.Selector, 0, len(in))
	seen := map[string]int{}
	for i := range in {
		for _, e := range in[i].MatchExpressions {
			if v, dup := duplicate(e.Values); dup {
				return nil, fmt.Errorf("parse %s[%d]: value %q is listed twice for key %q", field, i, v, e.Key)
			}
		}
		s, err := metav1.LabelSelectorAsSelector(&in[i])
		if err != nil {
			return nil, fmt.Errorf("parse %s[%d]: %w", field, i, err)
		}
		if j, dup := seen[s.String()]; dup {
			return nil, fmt.Errorf("parse %s[%d]: it selects the same as %s[%d] (%q): list each selector once", field, i, field, j, s.String())
		}
		seen[s.String()] = i
		out = append(out, func(l map[string]string) bool { return s.Matches(labels.Set(l)) })
	}
	return out, nil
}

func duplicate(values []string) (string, bool) {
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if seen[v] {
			return v, true
		}
		seen[v] = true
	}
	return "", false
}
