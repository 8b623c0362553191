package bgp

import (
	"fmt"
	"net/netip"
	"time"
)

// Family is an address family a session carries.
type Family int

// The zero Family is invalid, so that a Family left unset is never taken
// for IPv4.
const (
	IPv4Unicast Family = iota + 1
	IPv6Unicast
)

func (f Family) String() string {
	switch f {
	case IPv4Unicast:
		return "ipv4-unicast"
	case IPv6Unicast:
		return "ipv6-unicast"
	default:
		return fmt.Sprintf("Family(%d)", int(f))
	}
}

// familyOf returns the family of an address or prefix address.
func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4Unicast
	}
	return IPv6Unicast
}

// Values of Session.DynamicASN.
const (
	DynamicASNInternal = "internal"
	DynamicASNExternal = "external"
)

// Session is one BGP session this node must have.
type Session struct {
	// Name is the BGPPeer's name: the key for Set, status and Paths.
	Name    string
	MyASN   uint32
	PeerASN uint32 // 0 when DynamicASN is set
	// DynamicASN is "", "internal" (the peer's ASN is MyASN) or "external"
	// (any other ASN).
	DynamicASN  string
	PeerAddress netip.Addr
	PeerPort    uint16 // 0: 179
	// SourceAddress is the local address of the session; the zero Addr lets
	// the kernel choose. A Passive session listens on it.
	SourceAddress netip.Addr
	// RouterID is an IPv4 address; required.
	RouterID netip.Addr
	// HoldTime, KeepaliveTime and ConnectTime are whole seconds. Zero
	// means: hold 90s, keepalive a third of the hold time, connect retry
	// 5s (GoBGP's 120s leaves a session down for minutes after a router
	// restart).
	HoldTime, KeepaliveTime, ConnectTime time.Duration
	EBGPMultiHop                         bool
	Password                             string // TCP MD5; "" for none
	GracefulRestart                      bool
	// Passive waits for the router to connect instead of dialing. It needs
	// Options.ListenPort and a SourceAddress to listen on.
	Passive bool
	// Families the session carries. IPv4 prefixes over an IPv4 session,
	// IPv6 over an IPv6 one, and IPv6 over IPv4 (or IPv4 over IPv6)
	// through MP-BGP when both are listed.
	Families []Family
	// NextHop4 and NextHop6 are the node's own addresses to use as next
	// hop for each family. Zero: the session's local address, which exists
	// only for the family of the session; a prefix of the other family
	// needs its next hop set.
	NextHop4, NextHop6 netip.Addr
}

// ibgp reports whether the session is internal, which decides whether
// LOCAL_PREF may be sent.
func (s Session) ibgp() bool {
	if s.DynamicASN != "" {
		return s.DynamicASN == DynamicASNInternal
	}
	return s.PeerASN == s.MyASN
}

// LargeCommunity is an RFC 8092 large community.
type LargeCommunity struct{ Global, Local1, Local2 uint32 }

// Path is a prefix a session advertises, with its attributes.
type Path struct {
	Prefix           netip.Prefix
	Communities      []uint32 // standard communities, as 32-bit values
	LargeCommunities []LargeCommunity
	// LocalPref is sent on iBGP sessions only: BGP forbids it on eBGP, so
	// the adapter drops it there.
	LocalPref *uint32
}

// Desired is everything this node must announce over BGP.
type Desired struct {
	Sessions []Session
	// Paths holds, by Session.Name, exactly what that session advertises.
	Paths map[string][]Path
	// PathsPending says the paths are not known yet, as when the speaker
	// starts and has not planned: Paths is ignored, open sessions keep
	// what they advertise, and new sessions open without paths, so that
	// GoBGP's first dial (1-2s after the neighbour is added, whatever the
	// timers say) overlaps the wait for the paths. A new session with
	// graceful restart is not opened: GoBGP sends its End-of-RIB as soon
	// as the router's arrives, and an End-of-RIB before the paths would
	// make the router drop the routes it kept for this node (RFC 4724).
	PathsPending bool
}

// PeerStatus is what a session looks like now.
type PeerStatus struct {
	Name        string
	PeerAddress netip.Addr
	// State is idle, connect, active, opensent, openconfirm or established.
	State       string
	Established bool
	Since       time.Time // last state change
	// LastError says why the session is not up, in words a user
	// understands; "" once it is established.
	LastError string
	// PrefixesSent counts the prefixes advertised on the established
	// session: its paths of the negotiated families.
	PrefixesSent int
	Families     []Family // negotiated
}
