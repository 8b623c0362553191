package layer2

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Announcement: answer for IP on the named interface.
type Announcement struct {
	IP        netip.Addr
	Interface string
}

// String returns "IP on interface", for logs and errors.
func (a Announcement) String() string { return a.IP.String() + " on " + a.Interface }

// Compare orders announcements by IP, then by interface name: the order of
// Applied.
func (a Announcement) Compare(b Announcement) int {
	if c := a.IP.Compare(b.IP); c != 0 {
		return c
	}
	return strings.Compare(a.Interface, b.Interface)
}

// Gratuitous is one gratuitous announcement to send: IP on Interface, naming
// MAC as the owner. A nil MAC means the interface's own MAC. A foreign MAC is
// used at shutdown to point clients at the IP's new owner (handover).
type Gratuitous struct {
	IP        netip.Addr
	Interface string
	MAC       net.HardwareAddr
}

// protocol is what answers for an address family on a link.
type protocol uint8

const (
	protoARP protocol = iota + 1
	protoNDP
)

// String returns the metrics label value.
func (p protocol) String() string {
	switch p {
	case protoARP:
		return "arp"
	case protoNDP:
		return "ndp"
	}
	return fmt.Sprintf("protocol(%d)", uint8(p))
}

// protocolOf returns the protocol that answers for ip, which must be valid.
func protocolOf(ip netip.Addr) protocol {
	if ip.Is4() {
		return protoARP
	}
	return protoNDP
}

// key names one listener: a protocol on an interface.
type key struct {
	iface string
	proto protocol
}

func (k key) String() string { return k.proto.String() + " on " + k.iface }

// checkPair rejects what can never be announced. IPv4-mapped IPv6 is
// rejected rather than unmapped, so that Applied always returns exactly
// the pairs it was given.
func checkPair(ip netip.Addr, iface string) error {
	var why string
	switch {
	case iface == "":
		why = "empty interface name"
	case !ip.IsValid():
		why = "invalid IP"
	case ip.Zone() != "":
		why = "IP has a zone"
	case ip.Is4In6():
		why = "IPv4-mapped IPv6 address"
	case ip.IsUnspecified(), ip.IsLoopback(), ip.IsMulticast():
		why = "not a unicast address"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s on %q: %s", ErrInvalidAnnouncement, ip, iface, why)
}

// addrSet is a set of addresses. A listener's owned set is never modified
// after it is published.
type addrSet map[netip.Addr]struct{}

func (s addrSet) has(ip netip.Addr) bool {
	_, ok := s[ip]
	return ok
}

func (s addrSet) sorted() []netip.Addr {
	out := make([]netip.Addr, 0, len(s))
	for ip := range s {
		out = append(out, ip)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}
