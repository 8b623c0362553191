package announcement

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
)

// claims is a speaker that claims IPs and sees all three speakers alive.
var claims hn.Option = func(n *v1beta1.HeraldNode) {
	hn.Quorum(3, 3, "3 of 3 alive: claims IPs")(n)
	hn.Members("node1", "node2", "node3")(n)
}

const svc = "default/web"

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestIPs(t *testing.T) {
	tests := []struct {
		name  string
		ips   []netip.Addr
		nodes []v1beta1.HeraldNode
		want  []v1beta1.AnnouncedIP
	}{{
		name:  "layer2 winner",
		ips:   addrs("198.51.100.7"),
		nodes: []v1beta1.HeraldNode{hn.New("node1", claims), hn.New("node2", claims, hn.Layer2("198.51.100.7", "eth0", svc))},
		want:  []v1beta1.AnnouncedIP{{IP: "198.51.100.7", Protocol: "layer2", Nodes: []string{"node2"}, Interfaces: []string{"eth0"}}},
	}, {
		name:  "nobody",
		ips:   addrs("198.51.100.7"),
		nodes: []v1beta1.HeraldNode{hn.New("node1", claims, hn.Layer2("198.51.100.8", "eth0", svc))},
		want:  []v1beta1.AnnouncedIP{{IP: "198.51.100.7"}},
	}, {
		name:  "a node that is not Ready does not count",
		ips:   addrs("198.51.100.7"),
		nodes: []v1beta1.HeraldNode{hn.New("node1", hn.Quorum(1, 3, "1 of 3 alive: does not claim"), hn.Layer2("198.51.100.7", "eth0", svc))},
		want:  []v1beta1.AnnouncedIP{{IP: "198.51.100.7"}},
	}, {
		name: "a crashed speaker's HeraldNode, still Ready, does not count once the others see it gone",
		ips:  addrs("198.51.100.7"),
		nodes: []v1beta1.HeraldNode{
			hn.New("node1", claims, hn.Members("node1", "node2")),
			hn.New("node2", claims, hn.Members("node1", "node2"), hn.Layer2("198.51.100.7", "eth0", svc)),
			hn.New("node3", claims, hn.Layer2("198.51.100.7", "eth1", svc)),
		},
		want: []v1beta1.AnnouncedIP{{IP: "198.51.100.7", Protocol: "layer2", Nodes: []string{"node2"}, Interfaces: []string{"eth0"}}},
	}, {
		name:  "a shared IP listed for another Service only",
		ips:   addrs("198.51.100.7"),
		nodes: []v1beta1.HeraldNode{hn.New("node1", claims, hn.Layer2("198.51.100.7", "eth0", "default/other"))},
		want:  []v1beta1.AnnouncedIP{{IP: "198.51.100.7"}},
	}, {
		name: "bgp: established sessions announce, others are listed; the most specific prefix",
		ips:  addrs("203.0.113.5"),
		nodes: []v1beta1.HeraldNode{
			hn.New("node2", claims, hn.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.0/24", "203.0.113.5/32")),
			hn.New("node1", claims, hn.Peer("tor", "198.51.100.1", "Active", "connection refused", "203.0.113.5/32"), hn.Peer("gobgp", "198.51.100.2", "Established", "", "203.0.113.5/32")),
		},
		want: []v1beta1.AnnouncedIP{{IP: "203.0.113.5", Protocol: "bgp", Nodes: []string{"node1", "node2"}, Peers: []v1beta1.AnnouncingPeer{
			{Node: "node1", Peer: "gobgp", PeerAddress: "198.51.100.2", State: "Established", Prefix: "203.0.113.5/32"},
			{Node: "node1", Peer: "tor", PeerAddress: "198.51.100.1", State: "Active", Prefix: "203.0.113.5/32"},
			{Node: "node2", Peer: "tor", PeerAddress: "198.51.100.1", State: "Established", Prefix: "203.0.113.5/32"},
		}}},
	}, {
		name:  "both protocols, dual stack, sorted and deduplicated",
		ips:   addrs("2001:db8::7", "198.51.100.7", "198.51.100.7"),
		nodes: []v1beta1.HeraldNode{hn.New("node1", claims, hn.Layer2("198.51.100.7", "eth0", svc), hn.Peer("tor", "198.51.100.1", "Established", "", "198.51.100.0/24"))},
		want: []v1beta1.AnnouncedIP{
			{IP: "198.51.100.7", Protocol: "layer2", Nodes: []string{"node1"}, Interfaces: []string{"eth0"}},
			{IP: "198.51.100.7", Protocol: "bgp", Nodes: []string{"node1"}, Peers: []v1beta1.AnnouncingPeer{{Node: "node1", Peer: "tor", PeerAddress: "198.51.100.1", State: "Established", Prefix: "198.51.100.0/24"}}},
			{IP: "2001:db8::7"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, IPs(svc, tt.ips, tt.nodes)); diff != "" {
				t.Errorf("IPs (-want +got):\n%s", diff)
			}
		})
	}
}
