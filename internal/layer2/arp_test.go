package layer2

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

func TestRespondARPAnswersOwnedRequest(t *testing.T) {
	for _, tc := range []struct {
		name     string
		senderIP netip.Addr
		dst      net.HardwareAddr
	}{
		{"broadcast request", client4, ethernet.Broadcast},
		// Linux refreshes a stale entry with a unicast request to the
		// MAC it has.
		{"unicast request", client4, ourMAC},
		// RFC 5227 probe: answering defends the address.
		{"probe", netip.IPv4Unspecified(), ethernet.Broadcast},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respondARP(arpRequestFrame(t, clientMAC, tc.senderIP, vip4, tc.dst), ourMAC, set(vip4))
			if r.verdict != answer || r.target != vip4 || !bytes.Equal(r.to, clientMAC) {
				t.Fatalf("verdict %d target %s to %s, want an answer for %s to %s", r.verdict, r.target, r.to, vip4, clientMAC)
			}
			p := parseARPFrame(t, r.frame)
			if !bytes.Equal(p.eth.Destination, clientMAC) || !bytes.Equal(p.eth.Source, ourMAC) {
				t.Errorf("Ethernet %s → %s, want %s → %s", p.eth.Source, p.eth.Destination, ourMAC, clientMAC)
			}
			want := arp.Packet{
				HardwareType: 1, ProtocolType: uint16(ethernet.EtherTypeIPv4), HardwareAddrLength: 6, IPLength: 4,
				Operation:          arp.OperationReply,
				SenderHardwareAddr: ourMAC, SenderIP: vip4,
				TargetHardwareAddr: clientMAC, TargetIP: tc.senderIP,
			}
			if !arpEqual(p.arp, want) {
				t.Errorf("reply %+v, want %+v", p.arp, want)
			}
		})
	}
}

func TestRespondARPIgnores(t *testing.T) {
	req := func(t *testing.T) []byte { return arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast) }
	for _, tc := range []struct {
		name  string
		frame func(t *testing.T) []byte
		want  verdict
	}{
		{"request for a foreign IP", func(t *testing.T) []byte {
			return arpRequestFrame(t, clientMAC, client4, vip4b, ethernet.Broadcast)
		}, foreign},
		{"reply", func(t *testing.T) []byte {
			b, err := arpFrame(arp.OperationReply, clientMAC, clientMAC, client4, ourMAC, vip4, ourMAC)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, ignore},
		{"gratuitous request from another host", func(t *testing.T) []byte {
			b, err := gratuitousARP(otherMAC, otherMAC, vip4)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, ignore},
		{"our own frame looped back", func(t *testing.T) []byte {
			return arpRequestFrame(t, ourMAC, client4, vip4, ethernet.Broadcast)
		}, ignore},
		{"unicast to another host", func(t *testing.T) []byte {
			return arpRequestFrame(t, clientMAC, client4, vip4, otherMAC)
		}, ignore},
		{"multicast sender hardware address", func(t *testing.T) []byte {
			b := req(t)
			b[14+8] |= 1 // ARP sender hardware address, first byte
			return b
		}, ignore},
		{"hardware type not Ethernet", func(t *testing.T) []byte {
			b := req(t)
			b[14+1] = 6
			return b
		}, ignore},
		{"protocol not IPv4", func(t *testing.T) []byte {
			b := req(t)
			b[14+2], b[14+3] = 0x86, 0xdd
			return b
		}, ignore},
		{"VLAN tagged", func(t *testing.T) []byte { return tagged(t, req(t)) }, ignore},
		{"not ARP", func(t *testing.T) []byte {
			b := req(t)
			b[12], b[13] = 0x08, 0x00
			return b
		}, ignore},
		{"truncated", func(t *testing.T) []byte { return req(t)[:20] }, ignore},
		{"empty", func(t *testing.T) []byte { return nil }, ignore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := respondARP(tc.frame(t), ourMAC, set(vip4))
			if r.verdict != tc.want || r.frame != nil {
				t.Fatalf("verdict %d frame %x, want verdict %d and no frame", r.verdict, r.frame, tc.want)
			}
		})
	}
}

// TestRespondARPOnlyOwnedSet: the same request is answered or not only by
// what the listener owns, which is per interface.
func TestRespondARPOnlyOwnedSet(t *testing.T) {
	frame := arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast)
	if r := respondARP(frame, ourMAC, set(vip4b)); r.verdict != foreign {
		t.Fatalf("verdict %d for an IP owned on another interface, want foreign", r.verdict)
	}
	if r := respondARP(frame, ourMAC, set()); r.verdict != foreign {
		t.Fatalf("verdict %d with nothing owned, want foreign", r.verdict)
	}
}

func TestGratuitousARP(t *testing.T) {
	for _, owner := range []net.HardwareAddr{ourMAC, otherMAC} {
		b, err := gratuitousARP(ourMAC, owner, vip4)
		if err != nil {
			t.Fatal(err)
		}
		p := parseARPFrame(t, b)
		if !bytes.Equal(p.eth.Destination, ethernet.Broadcast) || !bytes.Equal(p.eth.Source, ourMAC) {
			t.Errorf("Ethernet %s → %s, want %s → broadcast (our MAC even for a handover)", p.eth.Source, p.eth.Destination, ourMAC)
		}
		want := arp.Packet{
			HardwareType: 1, ProtocolType: uint16(ethernet.EtherTypeIPv4), HardwareAddrLength: 6, IPLength: 4,
			Operation:          arp.OperationRequest,
			SenderHardwareAddr: owner, SenderIP: vip4,
			TargetHardwareAddr: make(net.HardwareAddr, 6), TargetIP: vip4,
		}
		if !arpEqual(p.arp, want) {
			t.Errorf("announcement %+v, want %+v", p.arp, want)
		}
	}
}

func arpEqual(a, b arp.Packet) bool {
	return a.HardwareType == b.HardwareType && a.ProtocolType == b.ProtocolType &&
		a.HardwareAddrLength == b.HardwareAddrLength && a.IPLength == b.IPLength &&
		a.Operation == b.Operation &&
		bytes.Equal(a.SenderHardwareAddr, b.SenderHardwareAddr) && a.SenderIP == b.SenderIP &&
		bytes.Equal(a.TargetHardwareAddr, b.TargetHardwareAddr) && a.TargetIP == b.TargetIP
}
