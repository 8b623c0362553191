package config

import (
	"net/netip"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

type l2Opt func(*v1beta1.L2Advertisement)

func mkL2(name string, opts ...l2Opt) v1beta1.L2Advertisement {
	a := v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, o := range opts {
		o(&a)
	}
	return a
}

func l2Pools(names ...string) l2Opt {
	return func(a *v1beta1.L2Advertisement) { a.Spec.IPAddressPools = names }
}

func l2PoolSel(sel metav1.LabelSelector) l2Opt {
	return func(a *v1beta1.L2Advertisement) {
		a.Spec.IPAddressPoolSelectors = append(a.Spec.IPAddressPoolSelectors, sel)
	}
}

func l2NodeSel(sel metav1.LabelSelector) l2Opt {
	return func(a *v1beta1.L2Advertisement) { a.Spec.NodeSelectors = append(a.Spec.NodeSelectors, sel) }
}

func l2Ifaces(names ...string) l2Opt {
	return func(a *v1beta1.L2Advertisement) { a.Spec.Interfaces = names }
}

func labelled(k, v string) poolOpt {
	return func(p *v1beta1.IPAddressPool) { p.Labels = map[string]string{k: v} }
}

func TestAnnouncementsPools(t *testing.T) {
	cfg := Announcements(Objects{Pools: []v1beta1.IPAddressPool{
		mkPool("old", 1, []string{"198.51.100.0/25"}, labelled("tier", "web")),
		mkPool("new", 2, []string{"198.51.100.64/26"}),
		mkPool("v6", 3, []string{"2001:db8:1::100-2001:db8:1::1ff"}),
		mkPool("gone", 4, []string{"203.0.113.0/26"}, deleting),
	}})
	tests := []struct {
		ip   string
		pool string
	}{
		{"198.51.100.70", "old"}, // new overlaps old: old keeps the addresses
		{"2001:db8:1::1ff", "v6"},
		{"2001:db8:1::200", ""},
		{"203.0.113.5", "gone"}, // a pool being deleted is still announced
		{"198.51.100.200", ""},
	}
	for _, tt := range tests {
		p, ok := cfg.PoolOf(netip.MustParseAddr(tt.ip))
		if got := map[bool]string{true: p.Name}[ok]; got != tt.pool {
			t.Errorf("PoolOf(%s) = %q, want %q", tt.ip, got, tt.pool)
		}
	}
	if p, _ := cfg.PoolOf(netip.MustParseAddr("198.51.100.1")); p.Labels["tier"] != "web" {
		t.Errorf("pool labels lost: %v", p.Labels)
	}
	if _, ok := cfg.Problems["IPAddressPool/new"]; !ok {
		t.Errorf("overlap not reported: %v", cfg.Problems)
	}
}

func TestAnnouncementsL2(t *testing.T) {
	pools := []v1beta1.IPAddressPool{
		mkPool("a", 1, []string{"198.51.100.0/26"}, labelled("tier", "web")),
		mkPool("b", 2, []string{"198.51.100.64/26"}, labelled("tier", "db")),
	}
	bad := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}}
	cfg := Announcements(Objects{Pools: pools, L2: []v1beta1.L2Advertisement{
		mkL2("z-all"),
		mkL2("named", l2Pools("b", "missing")),
		mkL2("selected", l2PoolSel(metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}), l2Ifaces("eth1", "eth0", "eth1")),
		mkL2("broken", l2NodeSel(bad)),
		mkL2("rack1", l2Pools("a"), l2NodeSel(metav1.LabelSelector{MatchLabels: map[string]string{"rack": "1"}})),
	}})
	var names []string
	for _, a := range cfg.L2 {
		names = append(names, a.Name)
	}
	if want := []string{"named", "rack1", "selected", "z-all"}; !slices.Equal(names, want) {
		t.Fatalf("L2 = %v, want %v", names, want)
	}
	if p, ok := cfg.Problems["L2Advertisement/broken"]; !ok || p.Reason != ReasonInvalidSelector {
		t.Errorf("invalid node selector not reported: %v", cfg.Problems)
	}
	byName := map[string]L2Advertisement{}
	for _, a := range cfg.L2 {
		byName[a.Name] = a
	}
	checks := []struct {
		adv, pool string
		want      bool
	}{
		{"z-all", "a", true}, {"z-all", "b", true},
		{"named", "b", true}, {"named", "a", false}, {"named", "missing", true},
		{"selected", "a", true}, {"selected", "b", false},
	}
	for _, c := range checks {
		if got := byName[c.adv].Selects(c.pool); got != c.want {
			t.Errorf("%s selects %s = %v, want %v", c.adv, c.pool, got, c.want)
		}
	}
	if got := byName["selected"].Interfaces; !slices.Equal(got, []string{"eth0", "eth1"}) {
		t.Errorf("interfaces = %v, want sorted and unique", got)
	}
	if !byName["z-all"].SelectsNode(map[string]string{"any": "thing"}) {
		t.Errorf("no node selector should select every node")
	}
	if r := byName["rack1"]; r.SelectsNode(map[string]string{"rack": "2"}) || !r.SelectsNode(map[string]string{"rack": "1"}) {
		t.Errorf("node selector not applied")
	}
}
