package status

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
)

func TestSummarize(t *testing.T) {
	pools := []v1beta1.IPAddressPool{
		{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Status: v1beta1.IPAddressPoolStatus{InUse: "3", Available: "29",
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "clash"}, Status: v1beta1.IPAddressPoolStatus{InUse: "0", Available: "0",
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Overlap"}}}},
	}
	nodes := []v1beta1.HeraldNode{
		hnt.New("node2", hnt.Quorum(1, 3, "1 of 3 known speakers alive: does not claim (no majority)"), hnt.Members("node2"),
			hnt.NotOpened("tor", "Secret herald-system/tor-pw, key \"password\", is missing or empty")),
		hnt.New("node1", hnt.Quorum(3, 3, "3 of 3 known speakers alive: claims"), hnt.Members("node1", "node2", "node3"),
			hnt.Layer2("198.51.100.64", "eth0", "demo/web"), hnt.Layer2("2001:db8:1::100", "eth0", "demo/web6"),
			hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.64/32", "203.0.113.96/27"),
			hnt.Peer("tor6", "2001:db8:1::1", "Active", "connection refused")),
	}
	svc := func(name string, ips ...string) corev1.Service {
		s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name}}
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	services := []corev1.Service{svc("web", "198.51.100.64"), svc("web6", "2001:db8:1::100"), svc("api", "203.0.113.64"),
		svc("agg", "203.0.113.100"), svc("lost", "198.51.100.70"), svc("pending")}
	s := Summarize(pools, nodes, services, map[string]string{"demo/lost 198.51.100.70": "198.51.100.70 is not announced: no endpoint of the Service is ready", "demo/lost": "older"})

	if len(s.Pools) != 2 || s.Pools[0] != (Pool{Name: "clash", InUse: "0", Available: "0", Ready: "False", Reason: "Overlap"}) ||
		s.Pools[1] != (Pool{Name: "lan", InUse: "3", Available: "29", Ready: "True"}) {
		t.Errorf("pools = %+v", s.Pools)
	}
	want := []Speaker{
		{Node: "node1", Claims: true, Quorum: "3 of 3 known speakers alive: claims", Members: 3, Ready: "True", Layer2: 2, Routes: 2},
		{Node: "node2", Quorum: "1 of 3 known speakers alive: does not claim (no majority)", Members: 1, Ready: "False"},
	}
	if len(s.Speakers) != 2 || s.Speakers[0] != want[0] || s.Speakers[1] != want[1] {
		t.Errorf("speakers = %+v, want %+v", s.Speakers, want)
	}
	wantPeers := []Peer{
		{Node: "node1", Name: "tor", Address: "198.51.100.1", State: "Established", Prefixes: 2},
		{Node: "node1", Name: "tor6", Address: "2001:db8:1::1", State: "Active", Error: "connection refused"},
		{Node: "node2", Name: "tor", State: "NotOpened", Error: "Secret herald-system/tor-pw, key \"password\", is missing or empty"},
	}
	if len(s.Peers) != 3 {
		t.Fatalf("peers = %+v", s.Peers)
	}
	for i := range wantPeers {
		if s.Peers[i] != wantPeers[i] {
			t.Errorf("peer %d = %+v, want %+v", i, s.Peers[i], wantPeers[i])
		}
	}
	if !s.Peers[0].Up() || s.Peers[1].Up() {
		t.Error("Up is wrong")
	}
	// web and web6 over Layer 2, api and agg (inside the /27) over BGP;
	// lost is announced by nobody; pending has no IP yet.
	if len(s.Unannounced) != 1 || s.Unannounced[0] != (Unannounced{Service: "demo/lost", IP: "198.51.100.70", Why: "198.51.100.70 is not announced: no endpoint of the Service is ready"}) {
		t.Errorf("unannounced = %+v", s.Unannounced)
	}
}

func TestLatestMessages(t *testing.T) {
	ev := func(name, reason, msg string, at int) corev1.Event {
		return corev1.Event{InvolvedObject: corev1.ObjectReference{Namespace: "demo", Name: name}, Reason: reason, Message: msg,
			LastTimestamp: metav1.NewTime(time.Date(2026, 12, 7, 12, 0, at, 0, time.UTC))}
	}
	got := LatestMessages([]corev1.Event{ev("a", "NotAnnounced", "new", 2), ev("a", "NotAnnounced", "old", 1), ev("a", "Announcing", "other", 3), ev("b", "NotAnnounced", "b's", 1),
		ev("c", "NotAnnounced", "198.51.100.9 is not announced: v4", 1), ev("c", "NotAnnounced", "2001:db8::9 is not announced: v6", 2)}, "NotAnnounced")
	if len(got) != 4 || got["demo/a"] != "new" || got["demo/b"] != "b's" || got["demo/c 198.51.100.9"] != "198.51.100.9 is not announced: v4" || got["demo/c 2001:db8::9"] != "2001:db8::9 is not announced: v6" {
		t.Errorf("LatestMessages = %v", got)
	}
}
