package layer2

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"golang.org/x/net/ipv6"
)

func TestRespondNDPAnswersOwnedSolicitation(t *testing.T) {
	snm := solicitedNode(vip6)
	for _, tc := range []struct {
		name      string
		frame     []byte
		dstIP     netip.Addr
		dstMAC    net.HardwareAddr
		solicited bool
	}{
		{"address resolution", multicastNS(t, vip6), client6, clientMAC, true},
		{"from a link-local source", nsFrame(t, clientMAC, multicastMAC(snm), clientLL, snm, vip6, clientMAC), clientLL, clientMAC, true},
		// The source link-layer address option names where to reply,
		// even when the frame came from elsewhere (a proxy).
		{"option names another MAC", nsFrame(t, clientMAC, multicastMAC(snm), client6, snm, vip6, otherMAC), client6, otherMAC, true},
		// metallb#2920: Neighbor Unreachability Detection probes the
		// address itself, to the MAC the client has, without the option.
		{"unreachability probe", nsFrame(t, clientMAC, ourMAC, client6, vip6, vip6, nil), client6, clientMAC, true},
		// RFC 4861 §7.2.4: a DAD probe is answered to all nodes.
		{"duplicate address detection", nsFrame(t, clientMAC, multicastMAC(snm), netip.IPv6Unspecified(), snm, vip6, nil), allNodes, multicastMAC(allNodes), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respondNDP(tc.frame, ourMAC, set(vip6))
			if r.verdict != answer || r.target != vip6 || !bytes.Equal(r.to, tc.dstMAC) {
				t.Fatalf("verdict %d target %s to %s, want an answer for %s to %s", r.verdict, r.target, r.to, vip6, tc.dstMAC)
			}
			p := parseNAFrame(t, r.frame)
			if !bytes.Equal(p.eth.Destination, tc.dstMAC) || !bytes.Equal(p.eth.Source, ourMAC) {
				t.Errorf("Ethernet %s → %s, want %s → %s", p.eth.Source, p.eth.Destination, ourMAC, tc.dstMAC)
			}
			// As Linux does for its own addresses; ndisc6 ignores an
			// answer from a link-local source for a global target.
			if src, _ := netip.AddrFromSlice(p.ip.Src); src != vip6 {
				t.Errorf("IPv6 source %s, want the target %s", src, vip6)
			}
			if dst, _ := netip.AddrFromSlice(p.ip.Dst); dst != tc.dstIP {
				t.Errorf("IPv6 destination %s, want %s", dst, tc.dstIP)
			}
			if p.na.Router || p.na.Solicited != tc.solicited || !p.na.Override || p.na.TargetAddress != vip6 {
				t.Errorf("NA %+v, want Router clear, Solicited %v, Override set, target %s", p.na, tc.solicited, vip6)
			}
			if !bytes.Equal(p.tlla, ourMAC) {
				t.Errorf("target link-layer address %s, want %s", p.tlla, ourMAC)
			}
		})
	}
}

func TestRespondNDPIgnores(t *testing.T) {
	snm := solicitedNode(vip6)
	ns := func(t *testing.T) []byte { return multicastNS(t, vip6) }
	for _, tc := range []struct {
		name  string
		frame func(t *testing.T) []byte
		want  verdict
	}{
		{"foreign target", func(t *testing.T) []byte { return multicastNS(t, vip6b) }, foreign},
		{"bad checksum", func(t *testing.T) []byte {
			b := ns(t)
			b[14+40+2] ^= 0xff
			return b
		}, ignore},
		{"forwarded (hop limit 254)", func(t *testing.T) []byte {
			b := ns(t)
			b[14+7] = 254 // not in the pseudo-header: the checksum stays right
			return b
		}, ignore},
		{"ICMP code 1", func(t *testing.T) []byte {
			b := ns(t)
			b[14+40+1] = 1
			return withChecksum(t, b)
		}, ignore},
		{"DAD with a source link-layer address", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, multicastMAC(snm), netip.IPv6Unspecified(), snm, vip6, clientMAC)
		}, ignore},
		{"DAD to the address itself", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, ourMAC, netip.IPv6Unspecified(), vip6, vip6, nil)
		}, ignore},
		{"to another group", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, multicastMAC(allNodes), client6, allNodes, vip6, clientMAC)
		}, ignore},
		{"to another unicast address", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, ourMAC, client6, vip6b, vip6, clientMAC)
		}, ignore},
		{"group address on our MAC", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, ourMAC, client6, snm, vip6, clientMAC)
		}, ignore},
		{"unicast to another host", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, otherMAC, client6, vip6, vip6, nil)
		}, ignore},
		{"our own frame looped back", func(t *testing.T) []byte {
			return nsFrame(t, ourMAC, multicastMAC(snm), client6, snm, vip6, ourMAC)
		}, ignore},
		{"multicast target", func(t *testing.T) []byte {
			g := solicitedNode(allNodes)
			return nsFrame(t, clientMAC, multicastMAC(g), client6, g, allNodes, clientMAC)
		}, ignore},
		{"multicast source", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, multicastMAC(snm), allNodes, snm, vip6, clientMAC)
		}, ignore},
		{"multicast source link-layer address", func(t *testing.T) []byte {
			return nsFrame(t, clientMAC, multicastMAC(snm), client6, snm, vip6, multicastMAC(allNodes))
		}, ignore},
		{"advertisement", func(t *testing.T) []byte {
			b, err := unsolicitedNA(clientMAC, clientMAC, vip6)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, ignore},
		{"VLAN tagged", func(t *testing.T) []byte { return tagged(t, ns(t)) }, ignore},
		{"payload length beyond the frame", func(t *testing.T) []byte {
			b := ns(t)
			return b[:len(b)-1]
		}, ignore},
		{"ARP", func(t *testing.T) []byte {
			return arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast)
		}, ignore},
		{"empty", func(t *testing.T) []byte { return nil }, ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respondNDP(tc.frame(t), ourMAC, set(vip6, vip6c))
			if r.verdict != tc.want || r.frame != nil {
				t.Fatalf("verdict %d frame %x, want verdict %d and no frame", r.verdict, r.frame, tc.want)
			}
		})
	}
}

// withChecksum recomputes the ICMPv6 checksum of an IPv6 frame, so that a
// test can change a field and still get past the checksum.
func withChecksum(t testing.TB, frame []byte) []byte {
	t.Helper()
	h, err := ipv6.ParseHeader(frame[14:])
	if err != nil {
		t.Fatal(err)
	}
	body := frame[14+40 : 14+40+h.PayloadLen]
	copy(body, withChecksumOf(t, h.Src, h.Dst, body))
	return frame
}

func TestUnsolicitedNA(t *testing.T) {
	for _, owner := range []net.HardwareAddr{ourMAC, otherMAC} {
		b, err := unsolicitedNA(ourMAC, owner, vip6)
		if err != nil {
			t.Fatal(err)
		}
		p := parseNAFrame(t, b)
		if !bytes.Equal(p.eth.Destination, multicastMAC(allNodes)) || !bytes.Equal(p.eth.Source, ourMAC) {
			t.Errorf("Ethernet %s → %s, want %s → 33:33:00:00:00:01", p.eth.Source, p.eth.Destination, ourMAC)
		}
		src, _ := netip.AddrFromSlice(p.ip.Src)
		dst, _ := netip.AddrFromSlice(p.ip.Dst)
		if src != vip6 || dst != allNodes {
			t.Errorf("IPv6 %s → %s, want %s → ff02::1", src, dst, vip6)
		}
		if p.na.Router || p.na.Solicited || !p.na.Override || p.na.TargetAddress != vip6 || !bytes.Equal(p.tlla, owner) {
			t.Errorf("NA %+v TLLA %s, want Override only, target %s, TLLA %s", p.na, p.tlla, vip6, owner)
		}
	}
}

func TestValidChecksum(t *testing.T) {
	b, err := ndp.MarshalMessageChecksum(&ndp.NeighborSolicitation{TargetAddress: vip6}, client6, vip6)
	if err != nil {
		t.Fatal(err)
	}
	if !validChecksum(client6, vip6, b) {
		t.Fatal("a checksum computed by ndp is rejected")
	}
	if validChecksum(client6, vip6b, b) {
		t.Fatal("a checksum for another destination is accepted")
	}
	// An odd length exercises the padding of the last byte.
	if validChecksum(client6, vip6, append(b, 1)) {
		t.Fatal("a checksum over a longer message is accepted")
	}
}
