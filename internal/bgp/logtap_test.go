package bgp

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	clocktesting "k8s.io/utils/clock/testing"
)

// TestLogTap feeds the tap the lines GoBGP v3.37.0 logs, with their
// fields, and checks what reaches the monitor.
func TestLogTap(t *testing.T) {
	log, _ := newLog(t, 1)
	metrics := NewMetrics()
	tap := &logTap{log: log}
	if tap.GetLevel() != gobgplog.DebugLevel {
		t.Fatal("the tap must ask GoBGP for debug lines")
	}
	// Lines while the server is idle in the pool go nowhere.
	tap.Debug("failed to connect", gobgplog.Fields{"Error": syscall.ECONNREFUSED})

	s := validSession("tor", func(s *Session) { s.SourceAddress = netip4("203.0.113.2") })
	m := newMonitor(s, clocktesting.NewFakePassiveClock(time.Time{}), log, metrics)
	tap.mon.Store(m)
	last := func() string { return m.status().LastError }
	opensent, openconfirm := bgp.BGP_FSM_OPENSENT.String(), bgp.BGP_FSM_OPENCONFIRM.String()
	changed := func(from, to, reason string) {
		tap.Debug("state changed", gobgplog.Fields{"old": from, "new": to, "reason": reason})
	}

	tap.Debug("failed to connect", gobgplog.Fields{"Error": &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}})
	if want := "connection refused by 203.0.113.1:179"; !strings.HasPrefix(last(), want) {
		t.Errorf("refused: %q, want %q…", last(), want)
	}

	// We refuse the router's OPEN: our NOTIFICATION says why, and the
	// state change that follows must not hide it.
	changed(activeState, opensent, "new-connection")
	tap.Warn("sent notification", gobgplog.Fields{"Data": bgp.NewMessageError(bgp.BGP_ERROR_OPEN_MESSAGE_ERROR, bgp.BGP_ERROR_SUB_BAD_PEER_AS, nil, "as number mismatch")})
	changed(opensent, idleState, "invalid-msg")
	if want := "peer ASN mismatch: the router does not use peerASN 64513"; !strings.HasPrefix(last(), want) {
		t.Errorf("we refused: %q, want %q…", last(), want)
	}

	// The router refuses ours: GoBGP drops its NOTIFICATION unread.
	changed(idleState, activeState, "idle-hold-timer-expired")
	changed(openconfirm, idleState, "invalid-msg")
	if want := "the router refused our OPEN with a NOTIFICATION"; !strings.HasPrefix(last(), want) {
		t.Errorf("the router refused: %q, want %q…", last(), want)
	}

	tap.Warn("received notification", gobgplog.Fields{"Code": uint8(bgp.BGP_ERROR_CEASE), "Subcode": uint8(bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN), "Communicated-Reason": "maintenance"})
	if want := "the router closed the session (the router sent NOTIFICATION Cease / Administrative Shutdown: maintenance)"; last() != want {
		t.Errorf("received: %q, want %q", last(), want)
	}
	tap.Warn("hold timer expired", gobgplog.Fields{})
	if want := "hold timer expired: no message from the router for 1m30s"; last() != want {
		t.Errorf("hold timer: %q, want %q", last(), want)
	}

	tap.Debug("sent update", gobgplog.Fields{})
	tap.Debug("sent update", gobgplog.Fields{})
	if v := counterValue(t, metrics.UpdatesSent, "tor"); v != 2 {
		t.Errorf("updates_sent_total = %v, want 2", v)
	}
	tap.Info("Peer Up", gobgplog.Fields{"Key": "203.0.113.1"})
	tap.Error("something", gobgplog.Fields{})
}
