package plan

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
)

// TestLeavingNodesHandOverLayer2 covers the nodes that are on their way
// out: each hands its IPs to the next in rank, and a cordoned node keeps
// them only when every candidate is cordoned.
func TestLeavingNodesHandOverLayer2(t *testing.T) {
	const ip = "198.51.100.70"
	rank := election.Rank(netip.MustParseAddr(ip), []string{"node1", "node2", "node3"})
	with := func(marks ...func(*Node)) *world {
		w := newWorld("node1").config(pools(lan), adv("lan"))
		for _, n := range []string{"node1", "node2", "node3"} {
			node := Node{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}}
			for _, m := range marks {
				m(&node)
			}
			w.node(node)
		}
		return w.alive("node1", "node2", "node3").service(svc("d/a", ip))
	}
	on := func(names []string, f func(*Node)) func(*Node) {
		return func(n *Node) {
			for _, x := range names {
				if n.Name == x {
					f(n)
				}
			}
		}
	}
	cordon := func(n *Node) { n.Cordoned = true }
	tests := []struct {
		name   string
		world  *world
		winner string
		reason string
	}{
		{"cordoned winner hands over", with(on(rank[:1], cordon)), rank[1], ""},
		{"two cordoned: the third", with(on(rank[:2], cordon)), rank[2], ""},
		{"all cordoned: the election among them", with(cordon), rank[0], ""},
		{"out of service hands over", with(on(rank[:1], func(n *Node) { n.OutOfService = true })), rank[1], ""},
		{"gone hands over", with(on(rank[:1], func(n *Node) { n.NotReady, n.Gone = true, true })), rank[1], ""},
		{"NotReady but not gone yet keeps it", with(on(rank[:1], func(n *Node) { n.NotReady = true })), rank[0], ""},
		{"all out of service: nobody", with(func(n *Node) { n.OutOfService = true }), "", TaintOutOfService},
		{"cordoned and the others gone: the cordoned one", with(on(rank[:1], cordon), on(rank[1:], func(n *Node) { n.Gone = true })), rank[0], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(tt.world.in)
			got := winners(p)
			if tt.winner != "" {
				if want := ip + "=" + tt.winner; got != want {
					t.Errorf("winners %q, unannounced %v; want %s", got, p.Unannounced, want)
				}
				return
			}
			if got != "" || len(p.Unannounced) == 0 || !strings.Contains(p.Unannounced[0].Reason, tt.reason) {
				t.Errorf("winners %q, unannounced %v; want nobody, because %q", got, p.Unannounced, tt.reason)
			}
		})
	}
}

// TestLeavingNodeShutsBGPDownGracefully: while its graceful-shutdown period
// lasts, a leaving node advertises what it did with GRACEFUL_SHUTDOWN (and
// LOCAL_PREF 0 to iBGP peers); after it, nothing.
func TestLeavingNodeShutsBGPDownGracefully(t *testing.T) {
	ibgp := peer("ibgp", "198.51.100.2", func(p *v1beta1.BGPPeer) { p.Spec.PeerASN = &p.Spec.MyASN })
	objs := config.Objects{Pools: []v1beta1.IPAddressPool{routed}, Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1"), ibgp},
		BGP: []v1beta1.BGPAdvertisement{bgpAdv("all", func(a *v1beta1.BGPAdvertisement) {
			a.Spec.Communities = []v1beta1.CommunityOrAlias{"64512:7"}
		})}}
	mark := func(f func(*Node)) func(*Inputs) {
		return func(in *Inputs) { f(&in.Nodes[0]) }
	}
	shutting := func(in *Inputs) { in.GracefulShutdown = true }
	tests := []struct {
		name      string
		changes   []func(*Inputs)
		svc       Service
		tor, ibgp string
	}{
		{"in service", nil, svc("d/a", "203.0.113.70"), "203.0.113.70/32 64512:7", "203.0.113.70/32 64512:7"},
		{"cordoned, shutting down", []func(*Inputs){mark(func(n *Node) { n.Cordoned = true }), shutting}, svc("d/a", "203.0.113.70"),
			"203.0.113.70/32 64512:7 65535:0", "203.0.113.70/32 64512:7 65535:0 lp=0"},
		{"cordoned, period over", []func(*Inputs){mark(func(n *Node) { n.Cordoned = true })}, svc("d/a", "203.0.113.70"), "", ""},
		{"excluded, shutting down", []func(*Inputs){mark(func(n *Node) { n.Excluded = true }), shutting}, svc("d/a", "203.0.113.70"),
			"203.0.113.70/32 64512:7 65535:0", "203.0.113.70/32 64512:7 65535:0 lp=0"},
		{"out of service, period over", []func(*Inputs){mark(func(n *Node) { n.OutOfService = true })}, svc("d/a", "203.0.113.70"), "", ""},
		{"shutting down, no ready endpoint: withdrawn at once", []func(*Inputs){mark(func(n *Node) { n.Cordoned = true }), shutting},
			notReady(svc("d/a", "203.0.113.70")), "", ""},
		{"shutting down, local endpoint elsewhere: withdrawn at once", []func(*Inputs){mark(func(n *Node) { n.Cordoned = true }), shutting},
			local(svc("d/a", "203.0.113.70"), "node2"), "", ""},
		{"every node cordoned: all keep advertising, untagged", []func(*Inputs){func(in *Inputs) {
			for i := range in.Nodes {
				in.Nodes[i].Cordoned = true
			}
		}, shutting}, svc("d/a", "203.0.113.70"), "203.0.113.70/32 64512:7", "203.0.113.70/32 64512:7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bgpWorld(objs, tt.svc)
			for _, c := range tt.changes {
				c(&in)
			}
			p := Compute(in)
			if got := routes(p, "tor"); got != tt.tor {
				t.Errorf("tor: %q, want %q", got, tt.tor)
			}
			if got := routes(p, "ibgp"); got != tt.ibgp {
				t.Errorf("ibgp: %q, want %q", got, tt.ibgp)
			}
		})
	}
}

func TestNodeFromLifecycle(t *testing.T) {
	since := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"},
		Spec:   corev1.NodeSpec{Unschedulable: true, Taints: []corev1.Taint{{Key: TaintOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, LastTransitionTime: metav1.NewTime(since)}}}}
	got := NodeFrom(n)
	if !got.Cordoned || !got.OutOfService || !got.NotReady || !got.NotReadySince.Equal(since) || got.Gone || !got.Leaving() || got.Fit() {
		t.Errorf("NodeFrom = %+v", got)
	}
	n.Spec = corev1.NodeSpec{}
	n.Status.Conditions[0].Status = corev1.ConditionTrue
	if got := NodeFrom(n); got.Cordoned || got.OutOfService || got.NotReady || got.Leaving() || !got.Fit() {
		t.Errorf("NodeFrom of a ready, schedulable node = %+v", got)
	}
	n.Status.Conditions = nil
	if got := NodeFrom(n); got.NotReady {
		t.Errorf("a node without a Ready condition counts as NotReady: %+v", got)
	}
}

func TestMarkGone(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	nr := func(name string, since time.Time) Node { return Node{Name: name, NotReady: true, NotReadySince: since} }
	seen := map[string]time.Time{}

	// First look: node1 has been NotReady for a minute by its condition,
	// node2 for 5 s, node3 is ready.
	nodes := []Node{nr("node1", t0.Add(-time.Minute)), nr("node2", t0.Add(-5*time.Second)), {Name: "node3"}}
	next := MarkGone(nodes, seen, t0, true)
	if !nodes[0].Gone || nodes[1].Gone || nodes[2].Gone {
		t.Errorf("first look: gone %v %v %v, want only node1", nodes[0].Gone, nodes[1].Gone, nodes[2].Gone)
	}
	if want := t0.Add(35 * time.Second); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next, want)
	}

	// node3 turns NotReady later; its condition says long ago (a clock far
	// behind), but it counts from when it was seen.
	at := t0.Add(10 * time.Second)
	nodes = []Node{nr("node1", t0.Add(-time.Minute)), nr("node2", t0.Add(-5*time.Second)), nr("node3", t0.Add(-time.Hour))}
	next = MarkGone(nodes, seen, at, false)
	if nodes[2].Gone {
		t.Error("node3 gone at once although seen NotReady only now")
	}
	if want := t0.Add(35 * time.Second); !next.Equal(want) {
		t.Errorf("next = %v, want node2's %v", next, want)
	}
	nodes = []Node{nr("node1", t0), nr("node2", t0), nr("node3", t0)}
	if next = MarkGone(nodes, seen, at.Add(GoneAfter), false); !nodes[1].Gone || !nodes[2].Gone || !next.IsZero() {
		t.Errorf("after GoneAfter: %+v, next %v", nodes, next)
	}

	// Ready again, or deleted: forgotten, and the count starts afresh.
	nodes = []Node{{Name: "node1"}}
	MarkGone(nodes, seen, at.Add(time.Minute), false)
	if len(seen) != 0 {
		t.Errorf("seen = %v after the nodes recovered or went", seen)
	}
}
