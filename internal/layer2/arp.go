package layer2

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
)

// verdict is what a responder decided about one frame.
type verdict uint8

const (
	// ignore: not a well-formed request addressed to us; not counted.
	ignore verdict = iota
	// foreign: a well-formed request for an address we do not own here.
	foreign
	// answer: a well-formed request for an address we own here.
	answer
)

// response is a responder's decision, and the frame to send for an answer.
type response struct {
	verdict verdict
	target  netip.Addr       // the address asked for (foreign and answer)
	frame   []byte           // the reply (answer)
	to      net.HardwareAddr // the reply's destination MAC (answer)
}

// arpHardwareEthernet is the ARP hardware type of Ethernet (RFC 826).
const arpHardwareEthernet = 1

// respondARP decides what to do with one received frame on a link whose MAC
// is mac and where owned are the IPv4 addresses we answer for. It answers
// ARP requests, probes (sender IP 0.0.0.0, RFC 5227) included, with a reply
// sent unicast to the requester. It ignores replies, gratuitous ARP from
// other hosts, frames with VLAN tags (the kernel hands a packet socket on
// the parent interface tagged frames that no VLAN device took, and a reply
// there would leave untagged), frames addressed to other hosts (seen in
// promiscuous mode) or sent by ourselves, and anything malformed.
func respondARP(frame []byte, mac net.HardwareAddr, owned addrSet) response {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil ||
		f.EtherType != ethernet.EtherTypeARP || f.VLAN != nil || f.ServiceVLAN != nil ||
		!isUnicastMAC(f.Source) || bytes.Equal(f.Source, mac) ||
		!(bytes.Equal(f.Destination, ethernet.Broadcast) || bytes.Equal(f.Destination, mac)) {
		return response{}
	}
	var req arp.Packet
	if err := req.UnmarshalBinary(f.Payload); err != nil ||
		req.HardwareType != arpHardwareEthernet || req.ProtocolType != uint16(ethernet.EtherTypeIPv4) ||
		req.HardwareAddrLength != 6 || req.IPLength != 4 || req.Operation != arp.OperationRequest ||
		!isUnicastMAC(req.SenderHardwareAddr) ||
		req.SenderIP == req.TargetIP {
		return response{}
	}
	if !owned.has(req.TargetIP) {
		return response{verdict: foreign, target: req.TargetIP}
	}
	reply, err := arpFrame(arp.OperationReply, mac, mac, req.TargetIP, req.SenderHardwareAddr, req.SenderIP, req.SenderHardwareAddr)
	if err != nil {
		// Unreachable: every field was checked above.
		return response{}
	}
	return response{verdict: answer, target: req.TargetIP, frame: reply, to: req.SenderHardwareAddr}
}

// gratuitousARP returns an ARP Announcement (RFC 5227 §3) for ip naming owner,
// sent from the interface whose MAC is from: a broadcast request whose sender
// and target IP are both ip. The package doc says why the request form.
func gratuitousARP(from, owner net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	zero := make(net.HardwareAddr, 6)
	return arpFrame(arp.OperationRequest, from, owner, ip, zero, ip, ethernet.Broadcast)
}

// arpFrame builds an Ethernet frame from src to dst carrying an ARP packet.
// The Ethernet source is always our own interface (src) even when the ARP
// sender is another host's MAC, so that switches keep learning our MAC on
// our port.
func arpFrame(op arp.Operation, src, senderMAC net.HardwareAddr, senderIP netip.Addr,
	targetMAC net.HardwareAddr, targetIP netip.Addr, dst net.HardwareAddr) ([]byte, error) {
	p, err := arp.NewPacket(op, senderMAC, senderIP, targetMAC, targetIP)
	if err != nil {
		return nil, fmt.Errorf("build ARP packet: %w", err)
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal ARP packet: %w", err)
	}
	f := ethernet.Frame{Destination: dst, Source: src, EtherType: ethernet.EtherTypeARP, Payload: pb}
	b, err := f.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal Ethernet frame: %w", err)
	}
	return b, nil
}

// isUnicastMAC reports whether mac is a 6-byte, non-zero, unicast address:
// one we may send a reply to.
func isUnicastMAC(mac net.HardwareAddr) bool {
	return len(mac) == 6 && mac[0]&1 == 0 && !bytes.Equal(mac, make(net.HardwareAddr, 6))
}
