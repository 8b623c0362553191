package config

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

func mkPeer(name, addr string) v1beta1.BGPPeer {
	return v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.BGPPeerSpec{MyASN: 64513, PeerAddress: addr}}
}

func TestReadiness(t *testing.T) {
	lan := mkPool("lan", 1, []string{"198.51.100.0/26"}, labelled("tier", "web"))
	dual := mkPool("dual", 2, []string{"203.0.113.0/28", "2001:db8::/120"})
	badSel := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}}
	tests := []struct {
		name   string
		objs   Objects
		key    string
		ok     bool
		reason string
		msg    string
	}{
		{"l2 names existing pools", Objects{Pools: []v1beta1.IPAddressPool{lan, dual}, L2: []v1beta1.L2Advertisement{mkL2("a", l2Pools("lan", "dual"))}},
			"L2Advertisement/a", true, ReasonAccepted, "selects pools dual, lan"},
		{"l2 names unknown pool", Objects{Pools: []v1beta1.IPAddressPool{lan}, L2: []v1beta1.L2Advertisement{mkL2("a", l2Pools("lan", "x"))}},
			"L2Advertisement/a", false, ReasonUnknownPool, `names pool "x" which does not exist`},
		{"l2 selects every pool", Objects{L2: []v1beta1.L2Advertisement{mkL2("a")}},
			"L2Advertisement/a", true, ReasonAccepted, "selects every pool"},
		{"l2 selector matches", Objects{Pools: []v1beta1.IPAddressPool{lan, dual}, L2: []v1beta1.L2Advertisement{mkL2("a", l2PoolSel(metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}))}},
			"L2Advertisement/a", true, ReasonAccepted, "selects pool lan"},
		{"l2 selector matches nothing", Objects{Pools: []v1beta1.IPAddressPool{dual}, L2: []v1beta1.L2Advertisement{mkL2("a", l2PoolSel(metav1.LabelSelector{MatchLabels: map[string]string{"tier": "web"}}))}},
			"L2Advertisement/a", true, ReasonAccepted, "selects no pool yet: no pool matches its selectors"},
		{"l2 invalid selector", Objects{L2: []v1beta1.L2Advertisement{mkL2("a", l2NodeSel(badSel))}},
			"L2Advertisement/a", false, ReasonInvalidSelector, ""},
		{"bgp accepted", Objects{Pools: []v1beta1.IPAddressPool{dual}, Peers: []v1beta1.BGPPeer{mkPeer("tor", "198.51.100.1")}, BGP: []v1beta1.BGPAdvertisement{mkBGP("b", bgpPools("dual"), toPeers("tor"))}},
			"BGPAdvertisement/b", true, ReasonAccepted, "selects pool dual"},
		{"bgp unknown pool", Objects{BGP: []v1beta1.BGPAdvertisement{mkBGP("b", bgpPools("x"))}},
			"BGPAdvertisement/b", false, ReasonUnknownPool, `names pool "x" which does not exist`},
		{"bgp unknown peer", Objects{Pools: []v1beta1.IPAddressPool{dual}, BGP: []v1beta1.BGPAdvertisement{mkBGP("b", bgpPools("dual"), toPeers("nope"))}},
			"BGPAdvertisement/b", false, ReasonUnknownPeer, `names peer "nope" which does not exist`},
		{"bgp unknown community alias", Objects{BGP: []v1beta1.BGPAdvertisement{mkBGP("b", communities("gold"))}},
			"BGPAdvertisement/b", false, ReasonUnknownCommunity, `community "gold" is neither a value nor an alias defined in a Community object`},
		{"bgp known community alias", Objects{Communities: []v1beta1.Community{mkCommunity("c", 1, "gold", "65000:1")}, BGP: []v1beta1.BGPAdvertisement{mkBGP("b", communities("gold"))}},
			"BGPAdvertisement/b", true, ReasonAccepted, "selects every pool"},
		{"bgp aggregation too short", Objects{Pools: []v1beta1.IPAddressPool{lan}, BGP: []v1beta1.BGPAdvertisement{mkBGP("b", aggregate(24, 128))}},
			"BGPAdvertisement/b", false, ReasonAggregationLength, ""},
		{"peer accepted", Objects{Peers: []v1beta1.BGPPeer{mkPeer("tor", "198.51.100.1")}},
			"BGPPeer/tor", true, ReasonAccepted, "opens a session to 198.51.100.1 port 179"},
		{"peer invalid address", Objects{Peers: []v1beta1.BGPPeer{mkPeer("tor", "not-an-ip")}},
			"BGPPeer/tor", false, ReasonInvalidPeer, ""},
		{"community accepted", Objects{Communities: []v1beta1.Community{mkCommunity("c", 1, "gold", "65000:1", "silver", "65000:2")}},
			"Community/c", true, ReasonAccepted, "defines aliases gold, silver"},
		{"community duplicate alias", Objects{Communities: []v1beta1.Community{mkCommunity("old", 1, "gold", "65000:1"), mkCommunity("new", 2, "gold", "65000:9")}},
			"Community/new", false, ReasonDuplicateAlias, `alias "gold" is already defined as 65000:1 by Community "old", which is older`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Readiness(tt.objs)[tt.key]
			if !ok {
				t.Fatalf("no verdict for %s", tt.key)
			}
			if got.OK != tt.ok || got.Reason != tt.reason || (tt.msg != "" && got.Message != tt.msg) || got.Message == "" {
				t.Errorf("%s = %+v, want ok=%v %s %q", tt.key, got, tt.ok, tt.reason, tt.msg)
			}
		})
	}
}

// TestReadinessCoversEveryObject: every object gets a verdict, and no pool
// does (pools have their own conditions).
func TestReadinessCoversEveryObject(t *testing.T) {
	objs := Objects{
		Pools:       []v1beta1.IPAddressPool{mkPool("lan", 1, []string{"198.51.100.0/26"})},
		L2:          []v1beta1.L2Advertisement{mkL2("ok"), mkL2("bad", l2Pools("x"))},
		BGP:         []v1beta1.BGPAdvertisement{mkBGP("ok"), mkBGP("bad", communities("nope"))},
		Peers:       []v1beta1.BGPPeer{mkPeer("ok", "198.51.100.1"), mkPeer("bad", "x")},
		Communities: []v1beta1.Community{mkCommunity("ok", 1)},
	}
	got := Readiness(objs)
	want := []string{"L2Advertisement/ok", "L2Advertisement/bad", "BGPAdvertisement/ok", "BGPAdvertisement/bad", "BGPPeer/ok", "BGPPeer/bad", "Community/ok"}
	for _, k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("no verdict for %s", k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d verdicts, want %d: %v", len(got), len(want), got)
	}
}
