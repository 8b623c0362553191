package speaker

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/plan"
)

func TestNodeStatus(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	claims := quorum{verdict: election.Verdict{Alive: 3, Known: 3, Claim: true}, ready: true, healthy: true}
	route := plan.Path{Prefix: netip.MustParsePrefix("203.0.113.64/32")}
	up := bgp.PeerStatus{Name: "tor", PeerAddress: netip.MustParseAddr("198.51.100.1"), State: "established", Established: true, PrefixesSent: 1, Since: t0}
	down := bgp.PeerStatus{Name: "tor6", State: "active", LastError: "connection refused"}
	l2 := []plan.L2{{IP: netip.MustParseAddr("198.51.100.64"), Interfaces: []string{"eth0"}, Services: []string{"demo/web"}}}
	tests := []struct {
		name  string
		view  nodeView
		peers []bgp.PeerStatus
		want  map[string]string // condition type → "Status/Reason"
		check func(*testing.T, v1beta1.HeraldNodeStatus)
	}{
		{"announcing over Layer 2, no BGP", nodeView{mine: l2, q: claims, alive: []string{"node2", "node1", "node3"}}, nil,
			map[string]string{v1beta1.NodeReady: "True/Claims", v1beta1.NodeAnnouncing: "True/Announces", v1beta1.NodeBGPEstablished: "False/NoSessions", v1beta1.NodeConfigurationAccepted: "True/Accepted"},
			func(t *testing.T, st v1beta1.HeraldNodeStatus) {
				if st.Layer2IPs != 1 || st.Members[0] != "node1" || !st.Quorum.Claims || st.PeersUp != "0/0" {
					t.Errorf("status = %+v", st)
				}
			}},
		{"a session down", nodeView{q: claims, bgp: plan.BGP{Paths: map[string][]plan.Path{"tor": {route}, "tor6": {route}}}}, []bgp.PeerStatus{up, down},
			map[string]string{v1beta1.NodeAnnouncing: "True/Announces", v1beta1.NodeBGPEstablished: "False/SessionsDown"},
			func(t *testing.T, st v1beta1.HeraldNodeStatus) {
				c := apimeta.FindStatusCondition(st.Conditions, v1beta1.NodeBGPEstablished)
				if st.PeersUp != "1/2" || st.BGPRoutes != 1 || st.BGPPeers[0].State != "Established" || st.BGPPeers[1].LastError != "connection refused" ||
					!strings.Contains(c.Message, "tor6 (Active: connection refused)") {
					t.Errorf("status = %+v", st)
				}
			}},
		{"a peer not opened, a pool rejected", nodeView{q: claims, problems: notInForce(map[string]config.Problem{"IPAddressPool/a": {Reason: "Overlap", Message: "overlaps b"}},
			map[string]string{"tor": "Secret x is missing"})}, nil,
			map[string]string{v1beta1.NodeAnnouncing: "False/NothingToAnnounce", v1beta1.NodeConfigurationAccepted: "False/Rejected"},
			func(t *testing.T, st v1beta1.HeraldNodeStatus) {
				c := apimeta.FindStatusCondition(st.Conditions, v1beta1.NodeConfigurationAccepted)
				if !strings.Contains(c.Message, "BGPPeer/tor: NotOpened: Secret x is missing; IPAddressPool/a: Overlap: overlaps b") {
					t.Errorf("message = %q", c.Message)
				}
			}},
		{"no majority", nodeView{q: quorum{verdict: election.Verdict{Alive: 1, Known: 3}, healthy: true}}, nil,
			map[string]string{v1beta1.NodeReady: "False/NoQuorum"}, nil},
		{"settling", nodeView{q: quorum{verdict: election.Verdict{Alive: 3, Known: 3, Claim: true}, waiting: true, healthy: true}}, nil,
			map[string]string{v1beta1.NodeReady: "False/Settling"}, func(t *testing.T, st v1beta1.HeraldNodeStatus) {
				if st.Quorum.Claims {
					t.Error("a settling speaker says it claims")
				}
			}},
		{"cut off", nodeView{q: quorum{verdict: election.Verdict{Alive: 3, Known: 3, Claim: true}}}, nil,
			map[string]string{v1beta1.NodeReady: "False/ProbesFailing"}, nil},
		{"tie lost", nodeView{q: quorum{verdict: election.Verdict{Alive: 1, Known: 2, Tie: true}, healthy: true}}, nil,
			map[string]string{v1beta1.NodeReady: "False/TieLost"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := nodeStatus(tt.view, tt.peers, v1beta1.HeraldNodeStatus{}, t0, t0)
			for typ, want := range tt.want {
				c := apimeta.FindStatusCondition(st.Conditions, typ)
				if c == nil || string(c.Status)+"/"+c.Reason != want {
					t.Errorf("%s = %+v, want %s", typ, c, want)
				}
			}
			if tt.check != nil {
				tt.check(t, st)
			}
			// The same inputs later give an equal status: no write.
			if again := nodeStatus(tt.view, tt.peers, st, t0, t0.Add(time.Minute)); !equality.Semantic.DeepEqual(again, st) {
				t.Errorf("recomputing changed the status:\n%+v\n%+v", st, again)
			}
		})
	}
}

// A node advertising more prefixes than a HeraldNode lists names the
// first MaxListedPrefixes, and counts them all.
func TestNodeStatusBoundsPrefixes(t *testing.T) {
	var paths []plan.Path
	for i := range 3000 {
		paths = append(paths, plan.Path{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}), 32)})
	}
	st := nodeStatus(nodeView{bgp: plan.BGP{Paths: map[string][]plan.Path{"tor": paths}}},
		[]bgp.PeerStatus{{Name: "tor", State: "established", Established: true, PrefixesSent: 3000}}, v1beta1.HeraldNodeStatus{}, time.Time{}, time.Unix(1, 0))
	if len(st.BGPPeers[0].Prefixes) != v1beta1.MaxListedPrefixes || st.BGPPeers[0].PrefixesSent != 3000 || st.BGPRoutes != 3000 {
		t.Errorf("listed %d, sent %d, routes %d", len(st.BGPPeers[0].Prefixes), st.BGPPeers[0].PrefixesSent, st.BGPRoutes)
	}
}
