package layer2

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// The fuzz targets feed arbitrary bytes to the responders, which must never
// panic, and must answer only what an independent reading of the input,
// with the libraries, shows is a valid request for an owned address. Seeds
// live in testdata/fuzz.

func FuzzRespondARP(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte) {
		r := respondARP(frame, ourMAC, set(vip4))
		if r.verdict != answer {
			if r.frame != nil {
				t.Fatalf("verdict %d with a reply", r.verdict)
			}
			return
		}
		var eth ethernet.Frame
		var req arp.Packet
		if eth.UnmarshalBinary(frame) != nil || req.UnmarshalBinary(eth.Payload) != nil {
			t.Fatal("answered a frame that does not parse")
		}
		switch {
		case eth.EtherType != ethernet.EtherTypeARP || eth.VLAN != nil:
			t.Fatal("answered a frame that is not untagged ARP")
		case !bytes.Equal(eth.Destination, ethernet.Broadcast) && !bytes.Equal(eth.Destination, ourMAC):
			t.Fatal("answered a frame addressed to another host")
		case bytes.Equal(eth.Source, ourMAC):
			t.Fatal("answered our own frame")
		case req.Operation != arp.OperationRequest || req.HardwareType != 1 || req.ProtocolType != 0x0800 ||
			req.HardwareAddrLength != 6 || req.IPLength != 4:
			t.Fatalf("answered %+v, not an Ethernet/IPv4 request", req)
		case req.TargetIP != vip4 || req.SenderIP == req.TargetIP:
			t.Fatalf("answered a request for %s from %s", req.TargetIP, req.SenderIP)
		case !isUnicastMAC(req.SenderHardwareAddr) || !bytes.Equal(r.to, req.SenderHardwareAddr):
			t.Fatalf("replied to %s for a request from %s", r.to, req.SenderHardwareAddr)
		}
		p := parseARPFrame(t, r.frame)
		if p.arp.Operation != arp.OperationReply || p.arp.SenderIP != vip4 || !bytes.Equal(p.arp.SenderHardwareAddr, ourMAC) ||
			p.arp.TargetIP != req.SenderIP || !bytes.Equal(p.eth.Destination, req.SenderHardwareAddr) {
			t.Fatalf("reply %+v to %s", p.arp, p.eth.Destination)
		}
	})
}

func FuzzRespondNDP(f *testing.F) {
	f.Fuzz(func(t *testing.T, frame []byte) {
		r := respondNDP(frame, ourMAC, set(vip6))
		if r.verdict != answer {
			if r.frame != nil {
				t.Fatalf("verdict %d with a reply", r.verdict)
			}
			return
		}
		var eth ethernet.Frame
		if eth.UnmarshalBinary(frame) != nil || eth.EtherType != ethernet.EtherTypeIPv6 || eth.VLAN != nil {
			t.Fatal("answered a frame that is not untagged IPv6")
		}
		h, err := ipv6.ParseHeader(eth.Payload)
		if err != nil || h.HopLimit != 255 || h.NextHeader != 58 || 40+h.PayloadLen > len(eth.Payload) {
			t.Fatalf("answered an IPv6 header %+v (%v)", h, err)
		}
		body := eth.Payload[40 : 40+h.PayloadLen]
		if !bytes.Equal(withChecksumOf(t, h.Src, h.Dst, body), body) {
			t.Fatal("answered a message with a bad checksum")
		}
		checkAnsweredNS(t, r, body, eth.Source)
	})
}

// FuzzRespondNS fuzzes the ICMPv6 message only, wrapped in a valid frame
// with a valid checksum, so that inputs get past the checksum to the NDP
// parser.
func FuzzRespondNS(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		snm := solicitedNode(vip6)
		if len(body) >= 4 {
			body = withChecksumOf(t, client6.AsSlice(), snm.AsSlice(), body)
		}
		p := make([]byte, 40, 40+len(body))
		p[0], p[6], p[7] = 6<<4, 58, 255
		p[4], p[5] = byte(len(body)>>8), byte(len(body))
		copy(p[8:24], client6.AsSlice())
		copy(p[24:40], snm.AsSlice())
		eth := ethernet.Frame{Destination: multicastMAC(snm), Source: clientMAC, EtherType: ethernet.EtherTypeIPv6, Payload: append(p, body...)}
		frame, err := eth.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		r := respondNDP(frame, ourMAC, set(vip6))
		if r.verdict != answer {
			if r.frame != nil {
				t.Fatalf("verdict %d with a reply", r.verdict)
			}
			return
		}
		checkAnsweredNS(t, r, body, clientMAC)
	})
}

// checkAnsweredNS checks that body, which was answered, is a Neighbor
// Solicitation for vip6 and that the reply is right for it.
func checkAnsweredNS(t *testing.T, r response, body []byte, from net.HardwareAddr) {
	t.Helper()
	m, err := ndp.ParseMessage(body)
	if err != nil || body[1] != 0 {
		t.Fatalf("answered a message that ndp does not parse (%v) or with code %d", err, body[1])
	}
	ns, ok := m.(*ndp.NeighborSolicitation)
	if !ok || ns.TargetAddress != vip6 {
		t.Fatalf("answered %+v, not a solicitation for %s", m, vip6)
	}
	to := from
	for _, o := range ns.Options {
		if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Source {
			to = lla.Addr
			break
		}
	}
	p := parseNAFrame(t, r.frame)
	if p.na.TargetAddress != vip6 || !p.na.Override || p.na.Router || !bytes.Equal(p.tlla, ourMAC) {
		t.Fatalf("reply %+v", p.na)
	}
	if src, _ := netip.AddrFromSlice(p.ip.Src); src != vip6 {
		t.Fatalf("reply from %s", src)
	}
	if p.na.Solicited && (!bytes.Equal(p.eth.Destination, to) || !isUnicastMAC(to)) {
		t.Fatalf("solicited reply to %s, want %s", p.eth.Destination, to)
	}
}

// withChecksumOf returns a copy of the ICMPv6 message body with the checksum
// that x/net computes for it between src and dst.
func withChecksumOf(t testing.TB, src, dst net.IP, body []byte) []byte {
	t.Helper()
	m := icmp.Message{Type: ipv6.ICMPType(body[0]), Code: int(body[1]), Body: &icmp.RawBody{Data: body[4:]}}
	b, err := m.Marshal(icmp.IPv6PseudoHeader(src, dst))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
