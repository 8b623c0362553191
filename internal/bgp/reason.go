package bgp

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// This file turns what GoBGP reports about a failing session into a
// sentence for PeerStatus.LastError and the log. It is pure: the texts
// depend only on the event and the session.

const bgpPort = 179

func peerEndpoint(s Session) netip.AddrPort {
	return netip.AddrPortFrom(s.PeerAddress, cmp.Or(s.PeerPort, bgpPort))
}

// dialTimeout is how long GoBGP waits for the router to answer a connect:
// the connect retry time less a second, at least a second.
func dialTimeout(s Session) time.Duration {
	return max(cmp.Or(s.ConnectTime, defaultConnectTime)-time.Second, time.Second)
}

// dialReason explains why TCP could not connect to the router.
func dialReason(err error, s Session) string {
	dst := peerEndpoint(s)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused by %s: nothing listens there; check that the router runs BGP on this port", dst)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("no route to %s", s.PeerAddress)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Sprintf("cannot connect from %s: it is not an address of this node", s.SourceAddress)
	case isTimeout(err):
		// A router that checks TCP MD5 drops a segment whose signature is
		// wrong or missing without a word, so a password mismatch looks
		// exactly like a router that does not answer.
		md5 := "the router requires a TCP MD5 password"
		if s.Password != "" {
			md5 = "the router has another TCP MD5 password, or none"
		}
		return fmt.Sprintf("no answer from %s within %s: the router is down or unreachable, a firewall drops the connection, or %s (a router drops segments with a wrong or missing MD5 signature without answering)", dst, dialTimeout(s), md5)
	default:
		return fmt.Sprintf("cannot connect to %s: %s", dst, innermost(err))
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) || (errors.As(err, &ne) && ne.Timeout())
}

// innermost is the most specific text in err: the system call's error
// rather than a message that names ephemeral ports, so that the same
// failure reads the same at every retry.
func innermost(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Syscall + ": " + se.Err.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// notificationReason explains a NOTIFICATION the router sent us (sent
// false) or we sent the router (sent true). detail is GoBGP's own text
// about the error, if any.
func notificationReason(sent bool, code, subcode uint8, detail string, s Session) string {
	what := notificationName(code, subcode)
	tag := "the router sent NOTIFICATION " + what
	if sent {
		tag = "we sent NOTIFICATION " + what
	}
	var msg string
	switch {
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_BAD_PEER_AS && sent:
		msg = fmt.Sprintf("peer ASN mismatch: the router does not use %s", expectedASN(s))
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_BAD_PEER_AS:
		msg = fmt.Sprintf("peer ASN mismatch: the router refuses our ASN %d; its neighbour for this node expects another one", s.MyASN)
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_BAD_BGP_IDENTIFIER && sent:
		msg = fmt.Sprintf("the router's ID is invalid or equals our router ID %s", s.RouterID)
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_BAD_BGP_IDENTIFIER:
		msg = fmt.Sprintf("the router refuses our router ID %s: it may be the router's own, or another node's", s.RouterID)
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_UNACCEPTABLE_HOLD_TIME:
		msg = "hold times do not agree"
	case code == bgp.BGP_ERROR_OPEN_MESSAGE_ERROR && subcode == bgp.BGP_ERROR_SUB_UNSUPPORTED_CAPABILITY:
		msg = "a capability is not supported (address family, 4-byte ASN or graceful restart)"
	case code == bgp.BGP_ERROR_HOLD_TIMER_EXPIRED && !sent:
		msg = "the router heard nothing from us for its hold time"
	case code == bgp.BGP_ERROR_CEASE && subcode == bgp.BGP_ERROR_SUB_CONNECTION_REJECTED && !sent:
		msg = "the router rejected the connection: it may have no neighbour for this node's address, or refuse it"
	case code == bgp.BGP_ERROR_CEASE && !sent:
		msg = "the router closed the session"
	case sent:
		msg = "we closed the session"
	default:
		msg = "the router closed the session"
	}
	if detail != "" {
		return fmt.Sprintf("%s (%s: %s)", msg, tag, detail)
	}
	return fmt.Sprintf("%s (%s)", msg, tag)
}

func expectedASN(s Session) string {
	switch s.DynamicASN {
	case DynamicASNInternal:
		return fmt.Sprintf("our own ASN %d (dynamicASN internal)", s.MyASN)
	case DynamicASNExternal:
		return "an ASN other than ours (dynamicASN external)"
	}
	return fmt.Sprintf("peerASN %d", s.PeerASN)
}

// notificationName names a NOTIFICATION the way RFC 4271 and its
// successors do, e.g. "OPEN Message Error / Bad Peer AS".
func notificationName(code, subcode uint8) string {
	name, ok := notificationCodes[code]
	if !ok {
		name = fmt.Sprintf("code %d", code)
	}
	if sub, ok := notificationSubcodes[[2]uint8{code, subcode}]; ok {
		return name + " / " + sub
	}
	if subcode != 0 {
		return fmt.Sprintf("%s / subcode %d", name, subcode)
	}
	return name
}

var notificationCodes = map[uint8]string{
	bgp.BGP_ERROR_MESSAGE_HEADER_ERROR:        "Message Header Error",
	bgp.BGP_ERROR_OPEN_MESSAGE_ERROR:          "OPEN Message Error",
	bgp.BGP_ERROR_UPDATE_MESSAGE_ERROR:        "UPDATE Message Error",
	bgp.BGP_ERROR_HOLD_TIMER_EXPIRED:          "Hold Timer Expired",
	bgp.BGP_ERROR_FSM_ERROR:                   "Finite State Machine Error",
	bgp.BGP_ERROR_CEASE:                       "Cease",
	bgp.BGP_ERROR_ROUTE_REFRESH_MESSAGE_ERROR: "ROUTE-REFRESH Message Error",
}

var notificationSubcodes = map[[2]uint8]string{
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_UNSUPPORTED_VERSION_NUMBER}:     "Unsupported Version Number",
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS}:                    "Bad Peer AS",
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_BGP_IDENTIFIER}:             "Bad BGP Identifier",
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_UNSUPPORTED_OPTIONAL_PARAMETER}: "Unsupported Optional Parameter",
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_UNACCEPTABLE_HOLD_TIME}:         "Unacceptable Hold Time",
	{bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_UNSUPPORTED_CAPABILITY}:         "Unsupported Capability",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_MAXIMUM_NUMBER_OF_PREFIXES_REACHED}:          "Maximum Number of Prefixes Reached",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN}:                     "Administrative Shutdown",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_PEER_DECONFIGURED}:                           "Peer De-configured",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_ADMINISTRATIVE_RESET}:                        "Administrative Reset",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_CONNECTION_REJECTED}:                         "Connection Rejected",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_OTHER_CONFIGURATION_CHANGE}:                  "Other Configuration Change",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_CONNECTION_COLLISION_RESOLUTION}:             "Connection Collision Resolution",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_OUT_OF_RESOURCES}:                            "Out of Resources",
	{bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_HARD_RESET}:                                  "Hard Reset",
}

// holdExpiredReason: we heard nothing from the router for the hold time.
func holdExpiredReason(s Session) string {
	return fmt.Sprintf("hold timer expired: no message from the router for %s", cmp.Or(s.HoldTime, defaultHoldTime))
}

// downReason explains GoBGP's reason for a session's return to idle from
// the state from (a GoBGP state name), or returns "" when the reason is
// told elsewhere (a NOTIFICATION with its codes, or the hold timer, which
// have their own log lines) or is our own doing (the session is being
// closed). weNotified says we sent a NOTIFICATION in this attempt.
func downReason(from, gobgpReason string, weNotified bool, s Session) string {
	wasUp := from == establishedState
	src := "this node's address"
	if s.SourceAddress.IsValid() {
		src = s.SourceAddress.String()
	}
	switch {
	case gobgpReason == "read-failed" && wasUp:
		return "the router closed the TCP connection"
	case gobgpReason == "read-failed":
		return fmt.Sprintf("the router closed the connection before the session came up: it may have no neighbour for %s, or refuse it", src)
	case gobgpReason == "invalid-msg" && !wasUp && !weNotified:
		// Before a session is up, GoBGP drops a NOTIFICATION it receives
		// without looking at it: all that is known is that the router
		// refused our OPEN, which mostly means it expects another ASN.
		return fmt.Sprintf("the router refused our OPEN with a NOTIFICATION, most likely a peer ASN mismatch: check that the router's neighbour for %s expects ASN %d and accepts router ID %s (GoBGP does not report the NOTIFICATION's code before a session is up)", src, s.MyASN, s.RouterID)
	case gobgpReason == "write-failed":
		return "the TCP connection to the router broke"
	case gobgpReason == "graceful-restart":
		return "the router stopped answering; it keeps our routes for the graceful restart time"
	case strings.HasPrefix(gobgpReason, "notification"), gobgpReason == "hold-timer-expired",
		gobgpReason == "invalid-msg", gobgpReason == "dying", gobgpReason == "admin-down",
		gobgpReason == "deconfigured", gobgpReason == "<nil>", gobgpReason == "":
		return ""
	}
	return "the session went down: " + gobgpReason
}
