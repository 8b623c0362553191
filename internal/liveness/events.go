package liveness

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"sync"

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
}

var _ memberlist.EventDelegate = (*events)(nil)

func newEvents(log logr.Logger, m *Metrics) *events {
	return &events{log: log, metrics: m, changes: make(chan struct{}, 1), members: map[string]Member{}}
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
	if alive {
		e.members[n.Name] = memberOf(n)
	} else {
		delete(e.members, n.Name)
	}
	e.metrics.Members.Set(float64(len(e.members)))
	e.mu.Unlock()
	e.metrics.MemberChanges.WithLabelValues(kind).Inc()
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

// The rest of memberlist.Delegate carries user messages and state, which
// Herald does not use: membership and meta are all it needs.

func (*metaDelegate) NotifyMsg([]byte)                           {}
func (*metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (*metaDelegate) LocalState(join bool) []byte                { return nil }
func (*metaDelegate) MergeRemoteState(buf []byte, join bool)     {}
