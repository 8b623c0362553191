package announcement

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
)

const grace = 10 * time.Second

// TestFailoverScript steps one Service through a life of announcers and
// checks, at each step, the condition, the columns and the Events.
func TestFailoverScript(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	ip := addrs("198.51.100.7")
	l2 := func(node string) v1beta1.HeraldNode {
		return hn.New(node, claims, hn.Layer2("198.51.100.7", "eth0", svc))
	}
	steps := []struct {
		name    string
		at      time.Duration
		nodes   []v1beta1.HeraldNode
		reason  string
		l2Node  string
		recheck time.Duration
		events  []Event
	}{
		{name: "new, nobody yet", nodes: nil, reason: v1beta1.ReasonWaitingForAnnouncer, recheck: grace},
		{name: "node1 takes it", at: time.Second, nodes: []v1beta1.HeraldNode{l2("node1")}, reason: v1beta1.ReasonAnnounced, l2Node: "node1",
			events: []Event{{"Normal", ReasonAnnouncerChanged, "198.51.100.7 now announced by node1 over Layer 2 (was nobody)"}}},
		{name: "same again: nothing", at: 2 * time.Second, nodes: []v1beta1.HeraldNode{l2("node1")}, reason: v1beta1.ReasonAnnounced, l2Node: "node1"},
		{name: "node1 stops", at: 3 * time.Second, nodes: nil, reason: v1beta1.ReasonWaitingForAnnouncer, recheck: grace},
		{name: "node2 takes over within the grace", at: 4 * time.Second, nodes: []v1beta1.HeraldNode{l2("node2")}, reason: v1beta1.ReasonAnnounced, l2Node: "node2",
			events: []Event{{"Normal", ReasonAnnouncerChanged, "198.51.100.7 now announced by node2 over Layer 2 (was node1)"}}},
		{name: "node2 stops", at: 5 * time.Second, nodes: nil, reason: v1beta1.ReasonWaitingForAnnouncer, recheck: grace},
		{name: "still in grace", at: 9 * time.Second, nodes: nil, reason: v1beta1.ReasonWaitingForAnnouncer, recheck: 6 * time.Second},
		{name: "grace over", at: 15 * time.Second, nodes: nil, reason: v1beta1.ReasonNoAnnouncer,
			events: []Event{{"Warning", ReasonNoAnnouncer, "No node announces 198.51.100.7: no Ready speaker lists it in its HeraldNode (kubectl get heraldnodes)."}}},
		{name: "warned once", at: 20 * time.Second, nodes: nil, reason: v1beta1.ReasonNoAnnouncer},
		{name: "node3 at last", at: 30 * time.Second, nodes: []v1beta1.HeraldNode{l2("node3")}, reason: v1beta1.ReasonAnnounced, l2Node: "node3",
			events: []Event{{"Normal", ReasonAnnouncerChanged, "198.51.100.7 now announced by node3 over Layer 2 (was node2)"}}},
	}
	var st v1beta1.ServiceAnnouncementStatus
	for _, s := range steps {
		next, recheck := Status(st, IPs(svc, ip, s.nodes), t0.Add(s.at), grace)
		events := Events(st, next)
		c := meta.FindStatusCondition(next.Conditions, v1beta1.ServiceAnnounced)
		if c.Reason != s.reason || next.Layer2Nodes != s.l2Node || recheck != s.recheck {
			t.Errorf("%s: reason %s, L2 node %q, recheck %v; want %s, %q, %v", s.name, c.Reason, next.Layer2Nodes, recheck, s.reason, s.l2Node, s.recheck)
		}
		if diff := cmp.Diff(s.events, events); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", s.name, diff)
		}
		// Recomputing from the result at the same time changes nothing.
		again, _ := Status(next, IPs(svc, ip, s.nodes), t0.Add(s.at), grace)
		if diff := cmp.Diff(next, again); diff != "" {
			t.Errorf("%s: not a fixed point (-first +again):\n%s", s.name, diff)
		}
		if len(Events(next, again)) != 0 {
			t.Errorf("%s: recomputing makes Events", s.name)
		}
		st = next
	}
}

func TestStatusColumns(t *testing.T) {
	nodes := []v1beta1.HeraldNode{
		hn.New("node1", claims, hn.Layer2("198.51.100.7", "eth0", svc), hn.Peer("tor", "198.51.100.1", "Established", "", "198.51.100.7/32", "2001:db8::7/128")),
		hn.New("node2", claims, hn.Peer("tor", "198.51.100.1", "Idle", "hold timer expired", "198.51.100.7/32")),
	}
	got, _ := Status(v1beta1.ServiceAnnouncementStatus{}, IPs(svc, addrs("198.51.100.7", "2001:db8::7"), nodes), time.Unix(1e9, 0), grace)
	want := [4]string{"198.51.100.7,2001:db8::7", "node1", "node1", "2/3"}
	if have := [4]string{got.IPList, got.Layer2Nodes, got.BGPNodes, got.Peers}; have != want {
		t.Errorf("columns %q, want %q", have, want)
	}
}
