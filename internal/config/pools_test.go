package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
)

type poolOpt func(*v1beta1.IPAddressPool)

func mkPool(name string, age int, addrs []string, opts ...poolOpt) v1beta1.IPAddressPool {
	p := v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{
		Name:              name,
		CreationTimestamp: metav1.NewTime(time.Unix(1_700_000_000+int64(age), 0)),
	}}
	for _, a := range addrs {
		p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(a))
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func noAuto(p *v1beta1.IPAddressPool) { f := false; p.Spec.AutoAssign = &f }
func deleting(p *v1beta1.IPAddressPool) {
	now := metav1.Now()
	p.DeletionTimestamp = &now
}
func svcSel(sel metav1.LabelSelector) poolOpt {
	return func(p *v1beta1.IPAddressPool) {
		if p.Spec.ServiceAllocation == nil {
			p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{}
		}
		p.Spec.ServiceAllocation.ServiceSelectors = append(p.Spec.ServiceAllocation.ServiceSelectors, sel)
	}
}

func names(ps []ipam.Pool) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func TestPools(t *testing.T) {
	tests := []struct {
		name      string
		in        []v1beta1.IPAddressPool
		wantPools string
		// wantProblems maps pool → reason + ":" + other.
		wantProblems map[string]string
		wantDeleting string
	}{
		{
			name:      "ordered by age then name",
			in:        []v1beta1.IPAddressPool{mkPool("b", 1, []string{"198.51.100.0/26"}), mkPool("c", 0, []string{"198.51.100.64/26"}), mkPool("a", 1, []string{"198.51.100.128/26"})},
			wantPools: "c,a,b",
		},
		{
			name:         "newer overlapping pool rejected, older kept",
			in:           []v1beta1.IPAddressPool{mkPool("new", 5, []string{"198.51.100.10-198.51.100.20"}), mkPool("old", 1, []string{"198.51.100.0/24"})},
			wantPools:    "old",
			wantProblems: map[string]string{"new": "Overlap:old"},
		},
		{
			name: "a pool overlapping only a rejected pool is kept",
			in: []v1beta1.IPAddressPool{
				mkPool("a", 1, []string{"198.51.100.0/25"}),
				mkPool("b", 2, []string{"198.51.100.0/24"}),
				mkPool("c", 3, []string{"198.51.100.200/29"}),
			},
			wantPools:    "a,c",
			wantProblems: map[string]string{"b": "Overlap:a"},
		},
		{
			name:         "unparsable addresses",
			in:           []v1beta1.IPAddressPool{mkPool("bad", 1, []string{"198.51.100.300/24"}), mkPool("ok", 2, []string{"2001:db8::/64"})},
			wantPools:    "ok",
			wantProblems: map[string]string{"bad": "InvalidAddresses:"},
		},
		{
			name: "invalid selector",
			in: []v1beta1.IPAddressPool{mkPool("bad", 1, []string{"198.51.100.0/24"}, svcSel(metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}},
			}))},
			wantProblems: map[string]string{"bad": "InvalidSelector:"},
		},
		{
			name:         "deleting pool stays, marked",
			in:           []v1beta1.IPAddressPool{mkPool("gone", 1, []string{"198.51.100.0/24"}, deleting), mkPool("ok", 2, []string{"203.0.113.0/24"})},
			wantPools:    "gone,ok",
			wantDeleting: "gone",
		},
		{
			// The CRD cannot order IPv6 addresses; the pool is flagged instead.
			name:         "a reversed IPv6 range",
			in:           []v1beta1.IPAddressPool{mkPool("rev", 1, []string{"2001:db8::10-2001:db8::5"})},
			wantProblems: map[string]string{"rev": "InvalidAddresses:"},
		},
		{
			name:         "a pool whose own entries overlap",
			in:           []v1beta1.IPAddressPool{mkPool("twice", 1, []string{"198.51.100.0/24", "203.0.113.0/24", "198.51.100.10-198.51.100.20"})},
			wantProblems: map[string]string{"twice": "InvalidAddresses:"},
		},
		{
			name:      "host bits are masked, as MetalLB does",
			in:        []v1beta1.IPAddressPool{mkPool("masked", 1, []string{"198.51.100.7/24"}), mkPool("later", 2, []string{"198.51.100.0/32"})},
			wantPools: "masked", wantProblems: map[string]string{"later": "Overlap:masked"},
		},
		{
			name: "a selector listed twice",
			in: []v1beta1.IPAddressPool{mkPool("dup", 1, []string{"198.51.100.0/24"},
				svcSel(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "a", Operator: metav1.LabelSelectorOpIn, Values: []string{"1", "2"}},
					{Key: "b", Operator: metav1.LabelSelectorOpExists},
				}}),
				// The same, written in another order.
				svcSel(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "b", Operator: metav1.LabelSelectorOpExists},
					{Key: "a", Operator: metav1.LabelSelectorOpIn, Values: []string{"2", "1"}},
				}}))},
			wantProblems: map[string]string{"dup": "InvalidSelector:"},
		},
		{
			name: "a value listed twice",
			in: []v1beta1.IPAddressPool{mkPool("dup", 1, []string{"198.51.100.0/24"},
				svcSel(metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "a", Operator: metav1.LabelSelectorOpIn, Values: []string{"1", "2", "1"}},
				}}))},
			wantProblems: map[string]string{"dup": "InvalidSelector:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Pools(tt.in)
			if got := names(cfg.Pools); got != tt.wantPools {
				t.Errorf("pools = %q, want %q", got, tt.wantPools)
			}
			got := map[string]string{}
			for n, p := range cfg.Problems {
				got[n] = p.Reason + ":" + p.Other
				if p.Message == "" {
					t.Errorf("problem of %s has no message", n)
				}
			}
			if len(got) != len(tt.wantProblems) {
				t.Errorf("problems = %v, want %v", got, tt.wantProblems)
			}
			for n, w := range tt.wantProblems {
				if got[n] != w {
					t.Errorf("problem of %s = %q, want %q", n, got[n], w)
				}
			}
			var gone []string
			for _, p := range cfg.Pools {
				if p.Deleting {
					gone = append(gone, p.Name)
				}
			}
			if strings.Join(gone, ",") != tt.wantDeleting {
				t.Errorf("deleting = %v, want %q", gone, tt.wantDeleting)
			}
		})
	}
}

func TestPoolsOverlapMessageNamesOlder(t *testing.T) {
	cfg := Pools([]v1beta1.IPAddressPool{mkPool("old", 1, []string{"198.51.100.0/24"}), mkPool("new", 2, []string{"198.51.100.7/32"})})
	if msg := cfg.Problems["new"].Message; !strings.Contains(msg, `"old"`) {
		t.Errorf("message %q does not name the older pool", msg)
	}
}

func TestPoolsConvertsFields(t *testing.T) {
	p := mkPool("p", 1, []string{"198.51.100.0/24", "2001:db8::1-2001:db8::9"}, noAuto,
		svcSel(metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}))
	p.Spec.AvoidBuggyIPs = true
	p.Spec.ServiceAllocation.Priority = 7
	p.Spec.ServiceAllocation.Namespaces = []string{"ns1"}
	cfg := Pools([]v1beta1.IPAddressPool{p})
	if len(cfg.Pools) != 1 {
		t.Fatalf("pools = %v", cfg.Pools)
	}
	got := cfg.Pools[0]
	if got.AutoAssign || !got.AvoidBuggyIPs || got.Priority != 7 || len(got.Ranges) != 2 || got.Namespaces[0] != "ns1" {
		t.Errorf("pool = %+v", got)
	}
	if len(got.ServiceSelectors) != 1 || !got.ServiceSelectors[0](map[string]string{"tier": "web"}) || got.ServiceSelectors[0](map[string]string{"tier": "db"}) {
		t.Errorf("service selector does not match as the label selector does")
	}
	if def := Pools([]v1beta1.IPAddressPool{mkPool("d", 1, []string{"198.51.100.0/24"})}).Pools[0]; !def.AutoAssign {
		t.Errorf("autoAssign unset should default to true")
	}
}

func TestDeletingPoolKeepsHoldersButGivesNothing(t *testing.T) {
	a := ipam.New()
	open := Pools([]v1beta1.IPAddressPool{mkPool("p", 1, []string{"198.51.100.0/30"})})
	if err := a.SetPools(open.Pools); err != nil {
		t.Fatal(err)
	}
	first, err := a.Allocate(ipam.Request{Key: "d/a"})
	if err != nil {
		t.Fatal(err)
	}
	gone := Pools([]v1beta1.IPAddressPool{mkPool("p", 1, []string{"198.51.100.0/30"}, deleting)})
	if err := a.SetPools(gone.Pools); err != nil {
		t.Fatal(err)
	}
	again, err := a.Allocate(ipam.Request{Key: "d/a"})
	if err != nil || again.IPs[0] != first.IPs[0] {
		t.Errorf("holder of a deleting pool: %v, %v; want %v", again, err, first)
	}
	if _, err := a.Allocate(ipam.Request{Key: "d/b", Pool: "p"}); !errors.Is(err, ipam.ErrPoolDeleting) {
		t.Errorf("a deleting pool asked for by name: %v, want ErrPoolDeleting", err)
	}
	if _, err := a.Allocate(ipam.Request{Key: "d/c"}); !errors.Is(err, ipam.ErrNoPoolMatches) {
		t.Errorf("a deleting pool auto-assigned: %v, want ErrNoPoolMatches", err)
	}
}

// TestPoolsSubnetRouterAnycast: an IPv6 CIDR's first address is excluded
// unless allowSubnetRouterAnycast is set; ranges and IPv4 never are.
func TestPoolsSubnetRouterAnycast(t *testing.T) {
	p := mkPool("p", 1, []string{"2001:db8::/64", "2001:db8:1::1-2001:db8:1::9", "198.51.100.0/24"})
	got := Pools([]v1beta1.IPAddressPool{p}).Pools[0]
	if len(got.Excluded) != 1 || got.Excluded[0].String() != "2001:db8::" {
		t.Errorf("excluded = %v, want only 2001:db8::", got.Excluded)
	}
	p.Spec.AllowSubnetRouterAnycast = true
	if got := Pools([]v1beta1.IPAddressPool{p}).Pools[0]; len(got.Excluded) != 0 {
		t.Errorf("with allowSubnetRouterAnycast, excluded = %v, want none", got.Excluded)
	}
}
