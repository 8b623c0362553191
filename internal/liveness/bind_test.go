package liveness

import (
	"net/netip"
	"testing"
)

func TestBindAddrFor(t *testing.T) {
	tests := []struct {
		name      string
		advertise string
		hostV4    bool
		want      netip.Addr
	}{
		{"IPv4 node", "198.51.100.10", true, netip.IPv4Unspecified()},
		{"IPv6 node", "2001:db8::10", true, netip.IPv6Unspecified()},
		{"IPv6 node, no IPv4 on the host", "2001:db8::10", false, netip.IPv6Unspecified()},
		{"IPv4 advertised, no IPv4 on the host", "198.51.100.10", false, netip.IPv6Unspecified()},
		{"IPv4-mapped counts as IPv4", "::ffff:198.51.100.10", true, netip.IPv4Unspecified()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BindAddrFor(netip.MustParseAddr(tt.advertise), tt.hostV4); got != tt.want {
				t.Errorf("BindAddrFor(%s, %v) = %v, want %v", tt.advertise, tt.hostV4, got, tt.want)
			}
		})
	}
}

// TestMembersOnIPv6Unspecified: two speakers bound to "::" and advertising
// ::1 gossip and see each other, as on an IPv6-only node.
func TestMembersOnIPv6Unspecified(t *testing.T) {
	c := newCluster(t)
	loop6 := netip.IPv6Loopback()
	aa, ba := freeAddrOn(t, loop6), freeAddrOn(t, loop6)
	onAll := func(o *Options) { o.BindAddr = BindAddrFor(o.AdvertiseAddr, false) }
	nodes := []*testNode{
		c.start("a", aa, []netip.AddrPort{ba}, []byte("meta-a"), onAll),
		c.start("b", ba, nil, []byte("meta-b"), onAll),
	}
	waitMembers(t, settle, nodes, "a", "b")
	for _, n := range nodes {
		for _, m := range n.l.Members() {
			if m.Addr.Addr() != loop6 {
				t.Errorf("%s sees %s at %v, want it on %v", n.name, m.Name, m.Addr, loop6)
			}
		}
	}
}
