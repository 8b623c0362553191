package bgp

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// dialErr is what GoBGP's dialer returns when connect fails with errno,
// from a given local port.
func dialErr(port int, errno error) error {
	return &net.OpError{
		Op: "dial", Net: "tcp",
		Source: &net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: port},
		Addr:   &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 1790},
		Err:    os.NewSyscallError("connect", errno),
	}
}

func TestDialReason(t *testing.T) {
	s := validSession("tor", func(s *Session) { s.PeerPort = 1790 })
	tests := []struct {
		name string
		err  error
		s    Session
		want []string
	}{
		{"refused", dialErr(40000, syscall.ECONNREFUSED), s, []string{"connection refused by 203.0.113.1:1790"}},
		{"unreachable", dialErr(40000, syscall.EHOSTUNREACH), s, []string{"no route to 203.0.113.1"}},
		{"no such source", dialErr(40000, syscall.EADDRNOTAVAIL), validSession("tor", func(s *Session) { s.SourceAddress = s.NextHop6; s.PeerAddress = s.NextHop6 }), []string{"cannot connect from 2001:db8::1"}},
		{"timeout without password", &net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, s,
			[]string{"no answer from 203.0.113.1:1790 within 4s", "the router requires a TCP MD5 password"}},
		{"timeout with password", dialErr(40000, syscall.ETIMEDOUT), validSession("tor", withPassword("x")),
			[]string{"no answer from 203.0.113.1:179 ", "another TCP MD5 password", "without answering"}},
		{"other", dialErr(40000, syscall.EPERM), s, []string{"cannot connect to 203.0.113.1:1790: connect: operation not permitted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dialReason(tc.err, tc.s)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
		})
	}
	// The same failure must read the same at every retry, whatever the
	// ephemeral port, or it would be logged at every retry.
	if a, b := dialReason(dialErr(40000, syscall.EPERM), s), dialReason(dialErr(40001, syscall.EPERM), s); a != b {
		t.Errorf("the reason changes with the source port: %q, %q", a, b)
	}
}

func TestNotificationReason(t *testing.T) {
	s := validSession("tor")
	tests := []struct {
		name      string
		sent      bool
		code, sub uint8
		detail    string
		s         Session
		want      string
	}{
		{"we refuse the router's ASN", true, bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS, "as number mismatch expected 64513, received 64999", s,
			"peer ASN mismatch: the router does not use peerASN 64513 (we sent NOTIFICATION OPEN Message Error / Bad Peer AS: as number mismatch expected 64513, received 64999)"},
		{"we refuse the router's ASN, dynamic internal", true, bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS, "", validSession("tor", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNInternal }),
			"peer ASN mismatch: the router does not use our own ASN 64512 (dynamicASN internal) (we sent NOTIFICATION OPEN Message Error / Bad Peer AS)"},
		{"the router refuses our ASN", false, bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS, "", s,
			"peer ASN mismatch: the router refuses our ASN 64512; its neighbour for this node expects another one (the router sent NOTIFICATION OPEN Message Error / Bad Peer AS)"},
		{"the router refuses our router ID", false, bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_BGP_IDENTIFIER, "", s,
			"the router refuses our router ID 198.51.100.1: it may be the router's own, or another node's (the router sent NOTIFICATION OPEN Message Error / Bad BGP Identifier)"},
		{"the router shuts the session down", false, bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN, "maintenance", s,
			"the router closed the session (the router sent NOTIFICATION Cease / Administrative Shutdown: maintenance)"},
		{"the router rejects the connection", false, bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_CONNECTION_REJECTED, "", s,
			"the router rejected the connection: it may have no neighbour for this node's address, or refuse it (the router sent NOTIFICATION Cease / Connection Rejected)"},
		{"unknown codes", false, 42, 7, "", s,
			"the router closed the session (the router sent NOTIFICATION code 42 / subcode 7)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := notificationReason(tc.sent, tc.code, tc.sub, tc.detail, tc.s); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSentNotificationFields(t *testing.T) {
	s := validSession("tor")
	msgErr := bgp.NewMessageError(bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS, nil, "as number mismatch")
	if got := sentNotification(map[string]any{"Data": msgErr}, s); !strings.Contains(got, "peer ASN mismatch") || !strings.Contains(got, "as number mismatch") {
		t.Errorf("from a MessageError: %q", got)
	}
	if got := sentNotification(map[string]any{"Code": uint8(bgp.BGP_ERROR_HOLD_TIMER_EXPIRED), "Subcode": uint8(0)}, s); !strings.HasPrefix(got, "hold timer expired: no message from the router for 1m30s") {
		t.Errorf("hold timer: %q", got)
	}
	if got := sentNotification(map[string]any{"Code": uint8(bgp.BGP_ERROR_CEASE), "Subcode": uint8(bgp.BGP_ERROR_SUB_ADMINISTRATIVE_RESET)}, s); got != "" {
		t.Errorf("our own Cease: %q, want nothing", got)
	}
	if got := sentNotification(map[string]any{}, s); got != "" {
		t.Errorf("no codes: %q, want nothing", got)
	}
}

func TestDownReason(t *testing.T) {
	s := validSession("tor", func(s *Session) { s.SourceAddress = netip.MustParseAddr("203.0.113.2") })
	up, opening := establishedState, bgp.BGP_FSM_OPENCONFIRM.String()
	for _, tc := range []struct {
		from       string
		reason     string
		weNotified bool
		want       string
	}{
		{up, "read-failed", false, "the router closed the TCP connection"},
		{opening, "read-failed", false, "the router closed the connection before the session came up: it may have no neighbour for 203.0.113.2, or refuse it"},
		{opening, "invalid-msg", false, "the router refused our OPEN with a NOTIFICATION, most likely a peer ASN mismatch: check that the router's neighbour for 203.0.113.2 expects ASN 64512 and accepts router ID 198.51.100.1 (GoBGP does not report the NOTIFICATION's code before a session is up)"},
		{opening, "invalid-msg", true, ""},
		{up, "graceful-restart", false, "the router stopped answering; it keeps our routes for the graceful restart time"},
		{opening, "notification-received code 6(cease)", false, ""},
		{up, "hold-timer-expired", false, ""},
		{up, "dying", false, ""},
		{opening, "<nil>", false, ""},
		{up, "something new", false, "the session went down: something new"},
	} {
		if got := downReason(tc.from, tc.reason, tc.weNotified, s); got != tc.want {
			t.Errorf("downReason(%s, %q, %v) = %q, want %q", tc.from, tc.reason, tc.weNotified, got, tc.want)
		}
	}
}

func TestInnermost(t *testing.T) {
	if got := innermost(errors.New("plain")); got != "plain" {
		t.Errorf("plain error: %q", got)
	}
}
