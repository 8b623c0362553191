package config

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
)

func TestParseCommunity(t *testing.T) {
	tests := []struct {
		in    string
		std   uint32
		large *LargeCommunity
		bad   bool
	}{
		{in: "65000:100", std: 65000<<16 | 100},
		{in: "0:0", std: 0},
		{in: "65535:65535", std: 0xffffffff},
		{in: "large:64500:1:2", large: &LargeCommunity{64500, 1, 2}},
		{in: "large:4294967295:0:4294967295", large: &LargeCommunity{4294967295, 0, 4294967295}},
		{in: "65536:1", bad: true},
		{in: "1:2:3", bad: true},
		{in: "large:1:2", bad: true},
		{in: "large:4294967296:1:2", bad: true},
		{in: "no-export", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		std, large, err := ParseCommunity(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseCommunity(%q) = %d %v, want an error", tt.in, std, large)
			}
			continue
		}
		if err != nil || std != tt.std || (large == nil) != (tt.large == nil) || large != nil && *large != *tt.large {
			t.Errorf("ParseCommunity(%q) = %d %v %v", tt.in, std, large, err)
		}
	}
}

func FuzzParseCommunity(f *testing.F) {
	for _, s := range []string{"65000:100", "large:1:2:3", "x", "large::::", "65535:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		std, large, err := ParseCommunity(s)
		if err != nil {
			return
		}
		// What parses prints back to an equivalent value.
		var again string
		if large != nil {
			again = "large:" + itoa(large.Global) + ":" + itoa(large.Local1) + ":" + itoa(large.Local2)
		} else {
			again = itoa(std>>16) + ":" + itoa(std&0xffff)
		}
		std2, large2, err := ParseCommunity(again)
		if err != nil || std2 != std || (large == nil) != (large2 == nil) || large != nil && *large != *large2 {
			t.Errorf("%q parsed to %d %v, which prints as %q and parses to %d %v %v", s, std, large, again, std2, large2, err)
		}
	})
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

type bgpOpt func(*v1beta1.BGPAdvertisement)

func mkBGP(name string, opts ...bgpOpt) v1beta1.BGPAdvertisement {
	a := v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, o := range opts {
		o(&a)
	}
	return a
}

func bgpPools(names ...string) bgpOpt {
	return func(a *v1beta1.BGPAdvertisement) { a.Spec.IPAddressPools = names }
}

func aggregate(v4, v6 int32) bgpOpt {
	return func(a *v1beta1.BGPAdvertisement) { a.Spec.AggregationLength, a.Spec.AggregationLengthV6 = &v4, &v6 }
}

func communities(cs ...string) bgpOpt {
	return func(a *v1beta1.BGPAdvertisement) {
		for _, c := range cs {
			a.Spec.Communities = append(a.Spec.Communities, v1beta1.CommunityOrAlias(c))
		}
	}
}

func localPref(v int64) bgpOpt { return func(a *v1beta1.BGPAdvertisement) { a.Spec.LocalPref = &v } }

func toPeers(p ...string) bgpOpt { return func(a *v1beta1.BGPAdvertisement) { a.Spec.Peers = p } }

func mkCommunity(name string, age int, kv ...string) v1beta1.Community {
	c := v1beta1.Community{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(1_700_000_000+int64(age), 0))}}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Spec.Communities = append(c.Spec.Communities, v1beta1.CommunityAlias{Name: kv[i], Value: v1beta1.CommunityValue(kv[i+1])})
	}
	return c
}

func TestBGPAdvertisements(t *testing.T) {
	pools := []v1beta1.IPAddressPool{
		mkPool("routed", 1, []string{"203.0.113.64/27", "2001:db8:200::/120"}),
		mkPool("range", 2, []string{"198.51.100.10-198.51.100.20"}),
	}
	comms := []v1beta1.Community{
		mkCommunity("old", 1, "east", "large:64512:1:2", "noadv", "65535:65282"),
		mkCommunity("new", 2, "east", "65000:1"),
	}
	tests := []struct {
		name    string
		adv     v1beta1.BGPAdvertisement
		reason  string // "" when in force
		std     []uint32
		large   []LargeCommunity
		agg     string // Aggregate of 203.0.113.70, when in force
		aggV6   string // Aggregate of 2001:db8:200::7
		message string
	}{
		{name: "defaults", adv: mkBGP("a", bgpPools("routed")), agg: "203.0.113.70/32", aggV6: "2001:db8:200::7/128"},
		{name: "aggregated", adv: mkBGP("a", bgpPools("routed"), aggregate(27, 120)), agg: "203.0.113.64/27", aggV6: "2001:db8:200::/120"},
		{name: "aggregate shorter than the pool", adv: mkBGP("a", bgpPools("routed"), aggregate(24, 128)), reason: ReasonAggregationLength, message: "shorter than the /27 blocks"},
		{name: "v6 aggregate shorter than the pool", adv: mkBGP("a", bgpPools("routed"), aggregate(32, 64)), reason: ReasonAggregationLength},
		// .10-.20 is .10/31 .12/30 .16/30 .20/32: its shortest block is /30.
		{name: "range: its shortest block counts", adv: mkBGP("a", bgpPools("range"), aggregate(30, 128)), agg: "203.0.113.68/30", aggV6: "2001:db8:200::7/128"},
		{name: "range: shorter than its blocks", adv: mkBGP("a", bgpPools("range"), aggregate(29, 128)), reason: ReasonAggregationLength},
		{name: "communities, aliases resolved, oldest alias wins", adv: mkBGP("a", bgpPools("routed"), communities("east", "noadv", "64512:100", "64512:100")),
			std: []uint32{64512<<16 | 100, 65535<<16 | 65282}, large: []LargeCommunity{{64512, 1, 2}}, agg: "203.0.113.70/32", aggV6: "2001:db8:200::7/128"},
		{name: "unknown alias", adv: mkBGP("a", bgpPools("routed"), communities("west")), reason: ReasonUnknownCommunity, message: `"west" is neither a value nor an alias`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Announcements(Objects{Pools: pools, BGP: []v1beta1.BGPAdvertisement{tt.adv}, Communities: comms})
			if p, ok := cfg.Problems["Community/new"]; !ok || p.Reason != ReasonDuplicateAlias || p.Other != "old" {
				t.Errorf("a conflicting alias is not reported on the newer Community: %v", cfg.Problems)
			}
			prob, bad := cfg.Problems["BGPAdvertisement/a"]
			if tt.reason != "" {
				if !bad || prob.Reason != tt.reason || !strings.Contains(prob.Message, tt.message) || len(cfg.BGP) != 0 {
					t.Errorf("problem = %+v, BGP %v; want %s containing %q", prob, cfg.BGP, tt.reason, tt.message)
				}
				return
			}
			if bad || len(cfg.BGP) != 1 {
				t.Fatalf("problem = %+v, BGP = %+v", prob, cfg.BGP)
			}
			a := cfg.BGP[0]
			if !slices.Equal(a.Communities, tt.std) || !slices.Equal(a.LargeCommunities, tt.large) {
				t.Errorf("communities = %v %v, want %v %v", a.Communities, a.LargeCommunities, tt.std, tt.large)
			}
			if got := a.Aggregate(netip.MustParseAddr("203.0.113.70")).String(); got != tt.agg {
				t.Errorf("aggregate = %s, want %s", got, tt.agg)
			}
			if got := a.Aggregate(netip.MustParseAddr("2001:db8:200::7")).String(); got != tt.aggV6 {
				t.Errorf("v6 aggregate = %s, want %s", got, tt.aggV6)
			}
		})
	}
}

func TestBGPLocalPrefConflict(t *testing.T) {
	pools := []v1beta1.IPAddressPool{mkPool("routed", 1, []string{"203.0.113.64/27"})}
	cfg := Announcements(Objects{Pools: pools, BGP: []v1beta1.BGPAdvertisement{
		mkBGP("b", bgpPools("routed"), localPref(200)),
		mkBGP("a", bgpPools("routed"), localPref(100)),
		mkBGP("c", bgpPools("routed"), localPref(300), toPeers("other")),
		mkBGP("d", bgpPools("routed"), localPref(300), aggregate(27, 128)),
	}})
	var names []string
	for _, a := range cfg.BGP {
		names = append(names, a.Name)
	}
	// b and c conflict with a, which comes first by name and reaches every
	// peer, c's included; d gives other routes, so it may differ.
	if !slices.Equal(names, []string{"a", "d"}) {
		t.Errorf("in force: %v, want a and d (problems %v)", names, cfg.Problems)
	}
	if p := cfg.Problems["BGPAdvertisement/b"]; p.Reason != ReasonLocalPrefConflict || p.Other != "a" {
		t.Errorf("b: %+v", p)
	}
}

func TestBGPPeers(t *testing.T) {
	peer := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPPeerSpec{
		MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: "198.51.100.1", SourceAddress: "198.51.100.11",
		HoldTime: &metav1.Duration{Duration: 9 * time.Second}, KeepaliveTime: &metav1.Duration{Duration: 3 * time.Second},
		RouterID: "198.51.100.11", EnableGracefulRestart: true, EBGPMultiHop: true,
		PasswordSecret: &v1beta1.SecretRef{Name: "pw", Namespace: "herald-system"},
		NodeSelectors:  []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "1"}}},
	}}
	broken := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "broken"}, Spec: v1beta1.BGPPeerSpec{MyASN: 1, PeerAddress: "not-an-ip"}}
	dyn := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "dyn"}, Spec: v1beta1.BGPPeerSpec{MyASN: 64513, DynamicASN: "external", PeerAddress: "2001:db8:1::1"}}
	cfg := Announcements(Objects{Peers: []v1beta1.BGPPeer{peer, broken, dyn}})
	if len(cfg.Peers) != 2 || cfg.Problems["BGPPeer/broken"].Reason != ReasonInvalidPeer {
		t.Fatalf("peers = %+v, problems %v", cfg.Peers, cfg.Problems)
	}
	d, p := cfg.Peers[0], cfg.Peers[1]
	if d.Name != "dyn" || d.DynamicASN != "external" || d.PeerASN != 0 || d.PeerPort != 179 {
		t.Errorf("dyn = %+v", d)
	}
	if p.MyASN != 64513 || p.PeerASN != 64512 || p.PeerAddress != netip.MustParseAddr("198.51.100.1") ||
		p.SourceAddress != netip.MustParseAddr("198.51.100.11") || p.RouterID != p.SourceAddress || p.HoldTime != 9*time.Second ||
		p.KeepaliveTime != 3*time.Second || !p.GracefulRestart || !p.EBGPMultiHop || *p.PasswordSecret != (SecretRef{"herald-system", "pw"}) {
		t.Errorf("tor = %+v", p)
	}
	if !p.SelectsNode(map[string]string{"rack": "1"}) || p.SelectsNode(map[string]string{"rack": "2"}) {
		t.Errorf("node selector not applied")
	}
}
