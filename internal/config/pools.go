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
	// included, closed (see Closed), so that its Services keep their IPs and
	// are counted, but it gives out no new address.
	Pools []ipam.Pool
	// Problems holds, by pool name, the pools that are not in force.
	Problems map[string]Problem
	// Closed lists the pools that are being deleted.
	Closed map[string]bool
}

// Pools converts IPAddressPools into allocator pools. Pools are ordered by
// creationTimestamp, then name. A pool that overlaps an older valid pool, or
// that does not parse, is left out and reported in Problems.
func Pools(items []v1beta1.IPAddressPool) Config {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b v1beta1.IPAddressPool) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	cfg := Config{Problems: map[string]Problem{}, Closed: map[string]bool{}}
	var valid []ipam.Pool
	deleting := map[string]bool{}
	for i := range sorted {
		item := &sorted[i]
		deleting[item.Name] = !item.DeletionTimestamp.IsZero()
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
		if rejected[p.Name] {
			continue
		}
		if deleting[p.Name] {
			p = closed(p)
			cfg.Closed[p.Name] = true
		}
		cfg.Pools = append(cfg.Pools, p)
	}
	return cfg
}

// closed returns p so that it keeps what is assigned but accepts no new
// Service: an allocator pool whose service selector matches nothing. The
// allocator never re-checks selectors for IPs already held.
func closed(p ipam.Pool) ipam.Pool {
	p.AutoAssign = false
	p.ServiceSelectors = []ipam.Selector{func(map[string]string) bool { return false }}
	return p
}

// pool converts one IPAddressPool.
func pool(item *v1beta1.IPAddressPool) (ipam.Pool, Problem, bool) {
	p := ipam.Pool{
		Name:          item.Name,
		AutoAssign:    item.Spec.AutoAssign == nil || *item.Spec.AutoAssign,
		AvoidBuggyIPs: item.Spec.AvoidBuggyIPs,
	}
	for _, a := range item.Spec.Addresses {
		r, err := ipam.ParseRange(string(a))
		if err != nil {
			return ipam.Pool{}, Problem{Reason: ReasonInvalidAddresses, Message: err.Error()}, false
		}
		p.Ranges = append(p.Ranges, r)
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

// selectors adapts Kubernetes label selectors to ipam selectors.
func selectors(field string, in []metav1.LabelSelector) ([]ipam.Selector, error) {
	out := make([]ipam.Selector, 0, len(in))
	for i := range in {
		s, err := metav1.LabelSelectorAsSelector(&in[i])
		if err != nil {
			return nil, fmt.Errorf("parse %s[%d]: %w", field, i, err)
		}
		out = append(out, func(l map[string]string) bool { return s.Matches(labels.Set(l)) })
	}
	return out, nil
}
