package liveness

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
)

// events receives memberlist's membership events and keeps this package's
// view of the members. memberlist calls it with its node lock held, which is
// the only time a node's fields can be read safely: memberlist rewrites
// them in place, so the pointers its Members returns race with its updates
// (hashicorp/memberlist#306). The view therefore holds copies taken here.
// It must never call back into memberlist, which would deadlock.
type events struct {
	log     logr.Logger
	metrics *Metrics
	changes chan struct{}

	mu sync.Mutex
	// members are the alive and suspect members: memberlist reports a join
	// when a node becomes alive, and a leave only when it is dead or has
	// left, never on suspicion.
	members map[string]Member
	// stopped is set when memberlist is shut down, after which late
	// callbacks from its goroutines are ignored.
	stopped bool
	// leaving holds the speakers that said they are leaving.
	leaving map[string]*leaver
	self    string
	now     func() time.Time
}

var _ memberlist.EventDelegate = (*events)(nil)

func newEvents(log logr.Logger, m *Metrics, self string, now func() time.Time) *events {
	return &events{log: log, metrics: m, changes: make(chan struct{}, 1), members: map[string]Member{},
		leaving: map[string]*leaver{}, self: self, now: now}
}

// leaver is a speaker that said it is leaving.
type leaver struct {
	// until is when it counts as gone no longer, if memberlist never
	// reports its leave.
	until time.Time
	// meta is its meta when it said so. A report with other meta is from
	// a new life: the speaker restarted under the same name.
	meta []byte
	// latest is what memberlist last reported of it meanwhile, restored
	// when until passes.
	latest *Member
}

// NotifyJoin is called for a new speaker, one back from the dead (a refute
// or a healed partition), and this speaker itself at start.
func (e *events) NotifyJoin(n *memberlist.Node) {
	e.log.Info("member joined", "member", n.Name, "addr", n.Address())
	e.record(n, true, changeJoin)
}

// NotifyLeave is called when a speaker left or was declared dead.
func (e *events) NotifyLeave(n *memberlist.Node) {
	e.log.Info("member left or failed", "member", n.Name, "addr", n.Address())
	e.record(n, false, changeLeave)
}

// NotifyUpdate is called when a speaker's meta changed.
func (e *events) NotifyUpdate(n *memberlist.Node) {
	e.log.V(1).Info("member meta updated", "member", n.Name, "metaBytes", len(n.Meta))
	e.record(n, true, changeUpdate)
}

func (e *events) record(n *memberlist.Node, alive bool, kind string) {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	switch {
	case !alive:
		delete(e.members, n.Name)
		delete(e.leaving, n.Name)
	case e.isLeaving(n.Name):
		// A speaker that said it is leaving is gone for this speaker until
		// memberlist says so too, or until it restarts: what memberlist
		// reports of it meanwhile with the same meta is from before.
		m, l := memberOf(n), e.leaving[n.Name]
		if bytes.Equal(m.Meta, l.meta) {
			l.latest = &m
			e.mu.Unlock()
			return
		}
		delete(e.leaving, n.Name)
		e.members[n.Name] = m
	default:
		e.members[n.Name] = memberOf(n)
	}
	e.metrics.Members.Set(float64(len(e.members)))
	e.mu.Unlock()
	e.metrics.MemberChanges.WithLabelValues(kind).Inc()
	e.signal()
}

// leavingFor is how long a speaker that said it is leaving stays gone even
// if memberlist never reports its leave: long enough for the leave to
// arrive, short enough that a speaker restarting under the same name is
// seen again.
const leavingFor = 10 * time.Second

// left is called when a speaker says it is leaving (leavingMsg): it is
// dropped at once, without waiting for memberlist's leave to be gossiped.
func (e *events) left(name string) {
	e.mu.Lock()
	if e.stopped || e.self == name {
		e.mu.Unlock()
		return
	}
	l := &leaver{until: e.now().Add(leavingFor)}
	if m, ok := e.members[name]; ok {
		l.meta, l.latest = m.Meta, &m
	}
	e.leaving[name] = l
	delete(e.members, name)
	// If memberlist never reports the leave, the speaker comes back when
	// the window ends, and the shell must hear of it.
	time.AfterFunc(leavingFor, func() { e.expire(name) })
	e.metrics.Members.Set(float64(len(e.members)))
	e.mu.Unlock()
	e.log.Info("member is leaving", "member", name)
	e.metrics.MemberChanges.WithLabelValues(changeLeave).Inc()
	e.signal()
}

// isLeaving reports whether name said it is leaving, recently. Once the
// window has passed, the speaker is restored as memberlist last reported
// it. e.mu is held.
func (e *events) isLeaving(name string) bool {
	l, ok := e.leaving[name]
	if ok && !e.now().Before(l.until) {
		delete(e.leaving, name)
		if l.latest != nil {
			e.members[name] = *l.latest
		}
		return false
	}
	return ok
}

// expire ends a leaving window that memberlist never closed.
func (e *events) expire(name string) {
	e.mu.Lock()
	if e.stopped || e.leaving[name] == nil || e.isLeaving(name) {
		e.mu.Unlock()
		return
	}
	e.metrics.Members.Set(float64(len(e.members)))
	e.mu.Unlock()
	e.signal()
}

// memberOf copies what the shell needs of n.
func memberOf(n *memberlist.Node) Member {
	addr, _ := netip.AddrFromSlice(n.Addr)
	return Member{Name: n.Name, Addr: netip.AddrPortFrom(addr.Unmap(), n.Port), Meta: bytes.Clone(n.Meta)}
}

// snapshot returns copies of the members, sorted by name.
func (e *events) snapshot() []Member {
	e.mu.Lock()
	out := make([]Member, 0, len(e.members))
	for _, m := range e.members {
		m.Meta = bytes.Clone(m.Meta)
		out = append(out, m)
	}
	e.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// stop forgets every member once memberlist is shut down.
func (e *events) stop() {
	e.mu.Lock()
	e.stopped = true
	clear(e.members)
	e.metrics.Members.Set(0)
	e.mu.Unlock()
	e.signal()
}

// signal wakes a Changes reader without blocking: one pending signal stands
// for any number of changes.
func (e *events) signal() {
	select {
	case e.changes <- struct{}{}:
	default:
	}
}

// metaDelegate hands memberlist this speaker's meta. Only Run sets it, right
// before it makes memberlist read it (Create, UpdateNode).
type metaDelegate struct {
	mu   sync.Mutex
	meta []byte
	// onLeaving is called with the name in a leaving message.
	onLeaving func(name string)
}

var _ memberlist.Delegate = (*metaDelegate)(nil)

func (d *metaDelegate) set(meta []byte) {
	d.mu.Lock()
	d.meta = meta
	d.mu.Unlock()
}

// NodeMeta returns the meta to gossip. Set has checked it against
// memberlist.MetaMaxSize, the only limit memberlist ever passes.
func (d *metaDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}

// NotifyMsg receives user messages: the only one is leavingMsg.
func (d *metaDelegate) NotifyMsg(b []byte) {
	if name, ok := parseLeaving(b); ok && d.onLeaving != nil {
		d.onLeaving(name)
	}
}

// The rest of memberlist.Delegate carries state, which Herald does not
// use: membership and meta are all it needs.

func (*metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (*metaDelegate) LocalState(join bool) []byte                { return nil }
func (*metaDelegate) MergeRemoteState(buf []byte, join bool)     {}

// leavingPrefix starts the message a speaker sends every member directly
// just before it leaves memberlist, so that they drop it at once rather
// than when the leave is next gossiped. Like all of memberlist's traffic it
// is encrypted with the gossip key.
const leavingPrefix = "herald-leaving:"

func leavingMsg(name string) []byte { return []byte(leavingPrefix + name) }

func parseLeaving(b []byte) (string, bool) {
	name, ok := strings.CutPrefix(string(b), leavingPrefix)
	return name, ok && name != ""
}
