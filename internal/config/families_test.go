package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
)

func TestPeerFamilies(t *testing.T) {
	v4, v6 := v1beta1.AddressFamilyIPv4, v1beta1.AddressFamilyIPv6
	tests := []struct {
		name string
		addr string
		spec func(*v1beta1.BGPPeerSpec)
		want []Family
	}{
		{"default: both, as Herald always did", "198.51.100.1", func(*v1beta1.BGPPeerSpec) {}, []Family{IPv4, IPv6}},
		{"dualStackAddressFamily true", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) { s.DualStackAddressFamily = ptr.To(true) }, []Family{IPv4, IPv6}},
		{"dualStackAddressFamily false, IPv4 peer", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) { s.DualStackAddressFamily = ptr.To(false) }, []Family{IPv4}},
		{"dualStackAddressFamily false, IPv6 peer", "2001:db8::1", func(s *v1beta1.BGPPeerSpec) { s.DualStackAddressFamily = ptr.To(false) }, []Family{IPv6}},
		{"disableMP, IPv4 peer", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) { s.DisableMP = true }, []Family{IPv4}},
		{"disableMP, IPv6 peer", "2001:db8::1", func(s *v1beta1.BGPPeerSpec) { s.DisableMP = true }, []Family{IPv6}},
		{"disableMP wins over dualStackAddressFamily (which CEL forbids)", "2001:db8::1", func(s *v1beta1.BGPPeerSpec) {
			s.DisableMP, s.DualStackAddressFamily = true, ptr.To(true)
		}, []Family{IPv6}},
		{"addressFamilies: IPv6 only on an IPv4 session", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) { s.AddressFamilies = []v1beta1.AddressFamily{v6} }, []Family{IPv6}},
		{"addressFamilies: sorted and unique", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) { s.AddressFamilies = []v1beta1.AddressFamily{v6, v4, v6} }, []Family{IPv4, IPv6}},
		{"addressFamilies wins (CEL forbids the mix)", "198.51.100.1", func(s *v1beta1.BGPPeerSpec) {
			s.AddressFamilies, s.DisableMP = []v1beta1.AddressFamily{v6}, true
		}, []Family{IPv6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1beta1.BGPPeerSpec{MyASN: 1, PeerASN: ptr.To[v1beta1.ASN](2), PeerAddress: tt.addr}}
			tt.spec(&p.Spec)
			cfg := Announcements(Objects{Peers: []v1beta1.BGPPeer{p}})
			if len(cfg.Peers) != 1 {
				t.Fatalf("peers %+v, problems %v", cfg.Peers, cfg.Problems)
			}
			got := cfg.Peers[0]
			if !slices.Equal(got.Families, tt.want) {
				t.Errorf("families = %v, want %v", got.Families, tt.want)
			}
			for _, ip := range []string{"203.0.113.1", "2001:db8:200::1", "::ffff:203.0.113.1"} {
				a := netip.MustParseAddr(ip)
				if got.Carries(a) != slices.Contains(tt.want, FamilyOf(a)) {
					t.Errorf("Carries(%s) = %v with families %v", ip, got.Carries(a), tt.want)
				}
			}
		})
	}
}

func TestPeerMaxPrefixes(t *testing.T) {
	for _, tt := range []struct {
		in   *v1beta1.PrefixLimits
		want int
	}{{nil, 0}, {&v1beta1.PrefixLimits{}, 0}, {&v1beta1.PrefixLimits{MaxPrefixes: ptr.To[int32](10)}, 10}} {
		p := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1beta1.BGPPeerSpec{MyASN: 1, PeerASN: ptr.To[v1beta1.ASN](2), PeerAddress: "198.51.100.1", ToAdvertise: tt.in}}
		cfg := Announcements(Objects{Peers: []v1beta1.BGPPeer{p}})
		if got := cfg.Peers[0].MaxPrefixes; got != tt.want {
			t.Errorf("toAdvertise %+v: MaxPrefixes = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestServiceSelectors(t *testing.T) {
	web := metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	db := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"db"}}}}
	bad := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}}
	pools := []v1beta1.IPAddressPool{mkPool("a", 1, []string{"198.51.100.0/26"})}
	l2 := []v1beta1.L2Advertisement{
		{ObjectMeta: metav1.ObjectMeta{Name: "any"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sel"}, Spec: v1beta1.L2AdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{web, db}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: v1beta1.L2AdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{bad}}},
	}
	bgp := []v1beta1.BGPAdvertisement{
		{ObjectMeta: metav1.ObjectMeta{Name: "any"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sel"}, Spec: v1beta1.BGPAdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{web, db}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: v1beta1.BGPAdvertisementSpec{ServiceSelectors: []metav1.LabelSelector{bad}}},
	}
	cfg := Announcements(Objects{Pools: pools, L2: l2, BGP: bgp})
	for _, k := range []string{"L2Advertisement/bad", "BGPAdvertisement/bad"} {
		if p := cfg.Problems[k]; p.Reason != ReasonInvalidSelector || !strings.Contains(p.Message, "serviceSelectors[0]") {
			t.Errorf("%s: problem %+v, want an invalid serviceSelectors", k, p)
		}
	}
	if len(cfg.L2) != 2 || len(cfg.BGP) != 2 {
		t.Fatalf("L2 %d, BGP %d in force; want 2 each", len(cfg.L2), len(cfg.BGP))
	}
	checks := []struct {
		labels   map[string]string
		any, sel bool
	}{
		{nil, true, false},
		{map[string]string{"app": "web"}, true, true},
		{map[string]string{"tier": "db"}, true, true},
		{map[string]string{"app": "api", "tier": "cache"}, true, false},
	}
	for _, c := range checks {
		if cfg.L2[0].SelectsService(c.labels) != c.any || cfg.L2[1].SelectsService(c.labels) != c.sel ||
			cfg.BGP[0].SelectsService(c.labels) != c.any || cfg.BGP[1].SelectsService(c.labels) != c.sel {
			t.Errorf("labels %v: want any %v, selected %v", c.labels, c.any, c.sel)
		}
	}
}
