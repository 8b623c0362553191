package bgp

import (
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/go-logr/logr"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// logTap is the logger of one GoBGP server. GoBGP tells why a session
// fails only in its log lines (a refused connect, a NOTIFICATION, an
// expired hold timer): the tap reads those lines, by their message text
// and structured fields, and reports them to the monitor of the session
// the server carries. It passes every line on to logr at a high verbosity.
//
// The texts are GoBGP v3.37.0's; the tests that make sessions fail on
// purpose notice when an upgrade changes them.
type logTap struct {
	log logr.Logger
	// mon is the monitor of the session the server carries now; nil while
	// the server is idle in the pool.
	mon atomic.Pointer[monitor]
	// notified is set when GoBGP sends a NOTIFICATION, until the next
	// connection attempt.
	notified atomic.Bool
}

var _ gobgplog.Logger = (*logTap)(nil)

// GoBGP's names of FSM states, in "state changed" lines.
var (
	idleState        = bgp.BGP_FSM_IDLE.String()
	activeState      = bgp.BGP_FSM_ACTIVE.String()
	establishedState = bgp.BGP_FSM_ESTABLISHED.String()
)

// Verbosity of GoBGP's lines in logr.
const (
	vGoBGPWarn  = 2
	vGoBGPInfo  = 3
	vGoBGPDebug = 5
)

func (t *logTap) Panic(msg string, f gobgplog.Fields) {
	t.log.Error(nil, msg, flatten(f)...)
	panic(fmt.Sprintf("gobgp: %s %v", msg, f))
}

// Fatal is called by GoBGP only when its gRPC server cannot listen, which
// Herald never starts; a library must not exit the process, so it panics.
func (t *logTap) Fatal(msg string, f gobgplog.Fields) {
	t.log.Error(nil, msg, flatten(f)...)
	panic(fmt.Sprintf("gobgp: %s %v", msg, f))
}

func (t *logTap) Error(msg string, f gobgplog.Fields) {
	t.log.Error(nil, msg, flatten(f)...)
}

func (t *logTap) Warn(msg string, f gobgplog.Fields) {
	if m := t.mon.Load(); m != nil {
		switch msg {
		case "received notification":
			code, sub := notificationFields(f)
			m.failure(notificationReason(false, code, sub, communicated(f), m.session))
		case "sent notification":
			t.notified.Store(true)
			m.failure(sentNotification(f, m.session))
		case "hold timer expired":
			m.failure(holdExpiredReason(m.session))
		}
	}
	t.log.V(vGoBGPWarn).Info(msg, flatten(f)...)
}

func (t *logTap) Info(msg string, f gobgplog.Fields) {
	t.log.V(vGoBGPInfo).Info(msg, flatten(f)...)
}

func (t *logTap) Debug(msg string, f gobgplog.Fields) {
	if m := t.mon.Load(); m != nil {
		switch msg {
		case "failed to connect":
			if err, ok := f["Error"].(error); ok {
				m.failure(dialReason(err, m.session))
			}
		case "sent update":
			m.updateSent()
		case "state changed":
			switch f["new"] {
			case idleState:
				from, _ := f["old"].(string)
				m.failure(downReason(from, fmt.Sprint(f["reason"]), t.notified.Load(), m.session))
			case activeState:
				t.notified.Store(false)
			}
		}
	}
	if v := t.log.V(vGoBGPDebug); v.Enabled() {
		v.Info(msg, flatten(f)...)
	}
}

func (t *logTap) SetLevel(gobgplog.LogLevel) {}

// GetLevel is Debug, always: GoBGP logs a failed connect and a sent
// update only at that level, and the tap needs both.
func (t *logTap) GetLevel() gobgplog.LogLevel { return gobgplog.DebugLevel }

func notificationFields(f gobgplog.Fields) (code, sub uint8) {
	code, _ = f["Code"].(uint8)
	sub, _ = f["Subcode"].(uint8)
	return code, sub
}

func communicated(f gobgplog.Fields) string {
	s, _ := f["Communicated-Reason"].(string)
	return s
}

// sentNotification reads both of GoBGP's "sent notification" lines: one
// carries the *bgp.MessageError that made GoBGP close the session, the
// other the codes of a NOTIFICATION sent from its queue.
func sentNotification(f gobgplog.Fields, s Session) string {
	if e, ok := f["Data"].(*bgp.MessageError); ok {
		return notificationReason(true, e.TypeCode, e.SubTypeCode, e.Message, s)
	}
	code, sub := notificationFields(f)
	// A Cease we send is our own doing (a reset, a shutdown, a closed
	// session), which says why elsewhere.
	if code == 0 || code == bgp.BGP_ERROR_CEASE {
		return ""
	}
	if code == bgp.BGP_ERROR_HOLD_TIMER_EXPIRED {
		return holdExpiredReason(s)
	}
	return notificationReason(true, code, sub, communicated(f), s)
}

// flatten turns GoBGP's fields into logr key-value pairs, in a stable
// order.
func flatten(f gobgplog.Fields) []any {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		kv = append(kv, k, f[k])
	}
	return kv
}
