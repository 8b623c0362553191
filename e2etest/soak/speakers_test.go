package soak

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/announcement"
)

func served(ns, name, pool string, ips ...string) corev1.Service {
	svc := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{poolAnnotation: pool}}}
	for _, ip := range ips {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return svc
}

// TestSpeakersAnnounceEveryIP reads the fake HeraldNodes back with the
// controller's own aggregation: every Layer 2 IP has exactly one node,
// every BGP IP every node, and an unserved Service nothing.
func TestSpeakersAnnounceEveryIP(t *testing.T) {
	s := Speakers{Nodes: []string{"node1", "node2", "node3"}, BGPPools: []string{"routed"}, Peer: "tor", PeerAddress: "198.51.100.1"}
	svcs := []corev1.Service{
		served("soak", "a", "lan", "2001:db8:1::100"),
		served("soak", "b", "routed", "2001:db8:200::1"),
		served("soak", "c", "lan", "2001:db8:1::101"),
		served("default", "d", "routed", "203.0.113.64"),
		served("soak", "pending", ""),
	}
	nodes := s.Statuses(svcs)
	if len(nodes) != 3 {
		t.Fatalf("got %d HeraldNodes, want 3", len(nodes))
	}
	tests := []struct {
		svc, ip  string
		protocol string
		nodes    int
	}{
		{"soak/a", "2001:db8:1::100", v1beta1.ProtocolLayer2, 1},
		{"soak/c", "2001:db8:1::101", v1beta1.ProtocolLayer2, 1},
		{"soak/b", "2001:db8:200::1", v1beta1.ProtocolBGP, 3},
		{"default/d", "203.0.113.64", v1beta1.ProtocolBGP, 3},
	}
	for _, tt := range tests {
		got := announcement.IPs(tt.svc, []netip.Addr{netip.MustParseAddr(tt.ip)}, nodes)
		if len(got) != 1 || string(got[0].Protocol) != tt.protocol || len(got[0].Nodes) != tt.nodes {
			t.Errorf("%s %s: announced as %+v, want %s by %d node(s)", tt.svc, tt.ip, got, tt.protocol, tt.nodes)
		}
	}
}
