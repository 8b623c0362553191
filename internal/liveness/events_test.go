package liveness

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
)

func node(name, ip string, port uint16, meta string) *memberlist.Node {
	return &memberlist.Node{Name: name, Addr: net.ParseIP(ip), Port: port, Meta: []byte(meta)}
}

func pending(ch <-chan struct{}) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		default:
			return n
		}
	}
}

func TestEventsKeepTheMembers(t *testing.T) {
	m := NewMetrics()
	e := newEvents(logr.Discard(), m, "self", time.Now)

	b := node("b", "198.51.100.2", 7946, "b1")
	e.NotifyJoin(b)
	e.NotifyJoin(node("a", "::ffff:198.51.100.1", 7946, "a1"))
	e.NotifyJoin(node("c", "2001:db8::3", 7000, "c1"))
	// memberlist reuses and rewrites its nodes: the view must hold copies.
	b.Meta[0], b.Port = 'X', 1
	e.NotifyUpdate(node("c", "2001:db8::3", 7000, "c2"))
	e.NotifyLeave(node("a", "198.51.100.1", 7946, ""))

	want := []Member{
		{Name: "b", Addr: netip.MustParseAddrPort("198.51.100.2:7946"), Meta: []byte("b1")},
		{Name: "c", Addr: netip.MustParseAddrPort("[2001:db8::3]:7000"), Meta: []byte("c2")},
	}
	if got := e.snapshot(); !slices.EqualFunc(got, want, sameMember) {
		t.Errorf("members %+v, want %+v", got, want)
	}
	if got := counterValue(t, m.Members); got != 2 {
		t.Errorf("members gauge %v, want 2", got)
	}
	for kind, want := range map[string]float64{changeJoin: 3, changeUpdate: 1, changeLeave: 1} {
		if got := counterValue(t, m.MemberChanges.WithLabelValues(kind)); got != want {
			t.Errorf("%s changes %v, want %v", kind, got, want)
		}
	}
	// Five changes, one pending signal.
	if n := pending(e.changes); n != 1 {
		t.Errorf("%d signals pending, want 1", n)
	}

	e.stop()
	e.NotifyJoin(node("d", "198.51.100.4", 7946, ""))
	if got := e.snapshot(); len(got) != 0 {
		t.Errorf("members after stop: %+v, want none", got)
	}
	if got := counterValue(t, m.Members); got != 0 {
		t.Errorf("members gauge after stop %v, want 0", got)
	}
	if n := pending(e.changes); n != 1 {
		t.Errorf("%d signals pending after stop, want 1", n)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	e := newEvents(logr.Discard(), NewMetrics(), "self", time.Now)
	e.NotifyJoin(node("a", "198.51.100.1", 7946, "meta"))
	e.snapshot()[0].Meta[0] = 'X'
	if got := e.snapshot()[0].Meta; string(got) != "meta" {
		t.Errorf("changing a snapshot changed the view: meta %q", got)
	}
}

func sameMember(a, b Member) bool {
	return a.Name == b.Name && a.Addr == b.Addr && string(a.Meta) == string(b.Meta)
}

func TestMetaDelegate(t *testing.T) {
	d := &metaDelegate{}
	if got := d.NodeMeta(memberlist.MetaMaxSize); got != nil {
		t.Errorf("meta before set: %q", got)
	}
	d.set([]byte("links"))
	if got := d.NodeMeta(memberlist.MetaMaxSize); string(got) != "links" {
		t.Errorf("meta %q, want links", got)
	}
	if d.LocalState(true) != nil || d.GetBroadcasts(0, 1400) != nil {
		t.Error("the delegate sends user state or broadcasts; Herald uses none")
	}
}

// A speaker that says it is leaving is dropped at once, and what memberlist
// still reports of it (an update, a refute) does not bring it back until
// its leave arrives or the grace passes.
func TestLeavingMessage(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	e := newEvents(logr.Discard(), NewMetrics(), "self", func() time.Time { return now })
	n := &memberlist.Node{Name: "b", Addr: []byte{198, 51, 100, 12}, Port: 7946}
	e.NotifyJoin(n)
	d := &metaDelegate{onLeaving: e.left}
	d.NotifyMsg([]byte("unrelated"))
	if got := memberNames(e.snapshot()); len(got) != 1 {
		t.Fatalf("members %v after an unrelated message", got)
	}
	d.NotifyMsg(leavingMsg("b"))
	if got := memberNames(e.snapshot()); len(got) != 0 {
		t.Fatalf("members %v after b said it leaves", got)
	}
	e.NotifyUpdate(n)
	if got := memberNames(e.snapshot()); len(got) != 0 {
		t.Errorf("a stale update brought b back: %v", got)
	}
	e.NotifyLeave(n)
	e.NotifyJoin(n) // b restarts
	if got := memberNames(e.snapshot()); len(got) != 1 {
		t.Errorf("b does not come back after its leave and a new join: %v", got)
	}
	d.NotifyMsg(leavingMsg("b"))
	now = now.Add(leavingFor)
	e.NotifyJoin(n)
	if got := memberNames(e.snapshot()); len(got) != 1 {
		t.Errorf("b stays gone past the grace: %v", got)
	}
	d.NotifyMsg(leavingMsg("self"))
	if got := memberNames(e.snapshot()); len(got) != 1 {
		t.Errorf("a message naming this speaker changed the members: %v", got)
	}
}

// A speaker that said it is leaving, and restarts before memberlist
// reports its leave, is back at once: its new life gossips other meta.
// One whose leave never comes is back, as last reported, when the window
// ends, and the shell hears of it.
func TestLeaverWithoutLeave(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	e := newEvents(logr.Discard(), NewMetrics(), "self", func() time.Time { return now })
	ready := &memberlist.Node{Name: "b", Addr: []byte{198, 51, 100, 12}, Port: 7946, Meta: []byte("ready")}
	e.NotifyJoin(ready)
	e.left("b")
	e.NotifyUpdate(ready)
	if got := memberNames(e.snapshot()); len(got) != 0 {
		t.Fatalf("a stale update brought b back: %v", got)
	}
	settling := &memberlist.Node{Name: "b", Addr: []byte{198, 51, 100, 12}, Port: 7946, Meta: []byte("settling")}
	e.NotifyUpdate(settling)
	if got := e.snapshot(); len(got) != 1 || string(got[0].Meta) != "settling" {
		t.Errorf("b restarted, but members are %+v", got)
	}

	e.left("b")
	<-e.changes
	e.NotifyUpdate(settling)
	now = now.Add(leavingFor)
	e.expire("b")
	select {
	case <-e.changes:
	default:
		t.Error("the window ended without a signal")
	}
	if got := e.snapshot(); len(got) != 1 || string(got[0].Meta) != "settling" {
		t.Errorf("b not restored when the window ended: %+v", got)
	}
}
