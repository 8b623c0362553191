package layer2

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

const (
	ipv6HeaderLen = 40
	// protocolICMPv6 is the IPv6 next-header value of ICMPv6.
	protocolICMPv6 = 58
	// ndpHopLimit is the only hop limit NDP accepts (RFC 4861 §7.1.1): it
	// proves the packet was not forwarded.
	ndpHopLimit = 255
	// nsMinLen is the shortest ICMPv6 Neighbor Solicitation: type, code,
	// checksum, reserved and the target address.
	nsMinLen = 24
)

var allNodes = netip.MustParseAddr("ff02::1")

// respondNDP decides what to do with one received frame on a link whose MAC
// is mac and where owned are the IPv6 addresses we answer for.
//
// It answers a valid Neighbor Solicitation (RFC 4861 §7.1.1: hop limit 255,
// ICMP code 0, a correct checksum, a unicast target, well-formed options)
// whose target we own, sent to the target's solicited-node group or, for
// Neighbor Unreachability Detection, to the target itself. The answer is a
// Neighbor Advertisement with Override and Solicited set, Router clear and
// our MAC as target link-layer address, sent to the solicitation's source
// from the target address itself.
// A duplicate address detection probe (source ::) is answered to ff02::1
// with Solicited clear (§7.2.4). The package doc says why the target is the
// source. Like respondARP it ignores frames with VLAN
// tags, frames addressed to other hosts or sent by ourselves, and anything
// malformed; the checksum matters here because a packet socket, unlike an
// ICMPv6 socket, gets frames the kernel has not checked.
func respondNDP(frame []byte, mac net.HardwareAddr, owned addrSet) response {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil ||
		f.EtherType != ethernet.EtherTypeIPv6 || f.VLAN != nil || f.ServiceVLAN != nil ||
		!isUnicastMAC(f.Source) || bytes.Equal(f.Source, mac) {
		return response{}
	}
	h, err := ipv6.ParseHeader(f.Payload)
	if err != nil || h.Version != 6 || h.NextHeader != protocolICMPv6 || h.HopLimit != ndpHopLimit ||
		h.PayloadLen < nsMinLen || h.PayloadLen > len(f.Payload)-ipv6HeaderLen {
		return response{}
	}
	from, ok1 := netip.AddrFromSlice(h.Src)
	to, ok2 := netip.AddrFromSlice(h.Dst)
	body := f.Payload[ipv6HeaderLen : ipv6HeaderLen+h.PayloadLen]
	if !ok1 || !ok2 || from.IsMulticast() ||
		body[0] != byte(ipv6.ICMPTypeNeighborSolicitation) || body[1] != 0 ||
		!validChecksum(from, to, body) {
		return response{}
	}
	// The Ethernet destination must be the one the IPv6 destination maps
	// to: our MAC for a unicast NS, the group's MAC for a multicast one.
	if want := mac; to.IsMulticast() {
		want = multicastMAC(to)
		if !bytes.Equal(f.Destination, want) {
			return response{}
		}
	} else if !bytes.Equal(f.Destination, want) {
		return response{}
	}
	m, err := ndp.ParseMessage(body)
	if err != nil {
		return response{}
	}
	ns, ok := m.(*ndp.NeighborSolicitation)
	if !ok {
		return response{}
	}
	target := ns.TargetAddress
	if !target.Is6() || target.IsMulticast() || (to != target && to != solicitedNode(target)) {
		return response{}
	}
	requester, hasSLLA, valid := sourceLLA(ns.Options)
	if !valid {
		return response{}
	}
	dad := from.IsUnspecified()
	if dad && (hasSLLA || to != solicitedNode(target)) {
		return response{}
	}
	if !owned.has(target) {
		return response{verdict: foreign, target: target}
	}
	na := &ndp.NeighborAdvertisement{
		Solicited:     !dad,
		Override:      true,
		TargetAddress: target,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: mac}},
	}
	dstIP, dstMAC := from, f.Source
	switch {
	case dad:
		dstIP, dstMAC = allNodes, multicastMAC(allNodes)
	case hasSLLA:
		dstMAC = requester
	}
	reply, err := ndpFrame(mac, dstMAC, target, dstIP, na)
	if err != nil {
		// Unreachable: the target and both MACs were checked above.
		return response{}
	}
	return response{verdict: answer, target: target, frame: reply, to: dstMAC}
}

// sourceLLA returns the first source link-layer address option, whether
// there is one, and whether the options are acceptable: a source address
// we would reply to must be a unicast Ethernet address.
func sourceLLA(opts []ndp.Option) (mac net.HardwareAddr, found, valid bool) {
	for _, o := range opts {
		lla, ok := o.(*ndp.LinkLayerAddress)
		if !ok || lla.Direction != ndp.Source {
			continue
		}
		if !isUnicastMAC(lla.Addr) {
			return nil, true, false
		}
		return lla.Addr, true, true
	}
	return nil, false, true
}

// unsolicitedNA returns an unsolicited Neighbor Advertisement for ip naming
// owner, sent from ip on the interface whose MAC is from to all nodes:
// Override set so that it replaces existing entries, Solicited clear
// because nobody asked (RFC 4861 §7.2.6).
func unsolicitedNA(from, owner net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: owner}},
	}
	return ndpFrame(from, multicastMAC(allNodes), ip, allNodes, na)
}

// ndpFrame builds an Ethernet frame carrying an IPv6 packet with hop limit
// 255 and the ICMPv6 message m, checksum included.
func ndpFrame(fromMAC, toMAC net.HardwareAddr, src, dst netip.Addr, m ndp.Message) ([]byte, error) {
	msg, err := ndp.MarshalMessageChecksum(m, src, dst)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", m.Type(), err)
	}
	// x/net/ipv6 parses headers but does not marshal them.
	p := make([]byte, ipv6HeaderLen, ipv6HeaderLen+len(msg))
	p[0] = 6 << 4
	binary.BigEndian.PutUint16(p[4:6], uint16(len(msg)))
	p[6] = protocolICMPv6
	p[7] = ndpHopLimit
	s, d := src.As16(), dst.As16()
	copy(p[8:24], s[:])
	copy(p[24:40], d[:])
	f := ethernet.Frame{Destination: toMAC, Source: fromMAC, EtherType: ethernet.EtherTypeIPv6, Payload: append(p, msg...)}
	b, err := f.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("marshal Ethernet frame: %w", err)
	}
	return b, nil
}

// multicastMAC returns the Ethernet address an IPv6 multicast group maps
// to (RFC 2464 §7).
func multicastMAC(group netip.Addr) net.HardwareAddr {
	b := group.As16()
	return net.HardwareAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

// validChecksum reports whether the ICMPv6 message body, sent from src to
// dst, carries a correct checksum: the one's complement sum over the
// pseudo-header and the message, checksum field included, is all ones.
func validChecksum(src, dst netip.Addr, body []byte) bool {
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(b[0])<<8 | uint32(b[1])
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	psh := icmp.IPv6PseudoHeader(src.AsSlice(), dst.AsSlice())
	binary.BigEndian.PutUint32(psh[32:36], uint32(len(body)))
	add(psh)
	add(body)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return sum == 0xffff
}
