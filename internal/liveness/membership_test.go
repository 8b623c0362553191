package liveness

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

// settle bounds waits for things that take a few gossip rounds; it is
// generous because the machine may be loaded, and a wait ends as soon as its
// condition holds.
const settle = 5 * time.Second

func metaOf(ms []Member, name string) ([]byte, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m.Meta, true
		}
	}
	return nil, false
}

// startThree runs a, b and c; each knows only the next one's address (and
// c knows its own, which must be ignored), so finding everyone relies on
// memberlist's gossip, not on every Lease.
// opts apply to all three.
func startThree(t *testing.T, c *cluster, opts ...nodeOpt) []*testNode {
	t.Helper()
	aa, ba, ca := freeAddr(t), freeAddr(t), freeAddr(t)
	return []*testNode{
		c.start("a", aa, []netip.AddrPort{ba}, []byte("meta-a"), opts...),
		c.start("b", ba, []netip.AddrPort{ca}, []byte("meta-b"), opts...),
		c.start("c", ca, []netip.AddrPort{ca, aa}, []byte("meta-c"), opts...),
	}
}

func TestMembersFindEachOtherAndSeeMeta(t *testing.T) {
	nodes := startThree(t, newCluster(t))
	waitMembers(t, settle, nodes, "a", "b", "c")

	for _, n := range nodes {
		ms := n.l.Members()
		for i, m := range ms {
			want := nodes[i]
			if m.Name != want.name || m.Addr != want.addr || string(m.Meta) != "meta-"+want.name {
				t.Errorf("%s sees member %d as %+v, want name %s at %v with meta %q", n.name, i, m, want.name, want.addr, "meta-"+want.name)
			}
		}
	}
}

func TestMembersAreCopies(t *testing.T) {
	nodes := startThree(t, newCluster(t))
	waitMembers(t, settle, nodes, "a", "b", "c")

	ms := nodes[0].l.Members()
	ms[1].Meta[0] = 'X'
	if got, _ := metaOf(nodes[0].l.Members(), "b"); string(got) != "meta-b" {
		t.Errorf("changing a returned Member changed memberlist's state: meta is now %q", got)
	}
}

func TestSetMetaPropagates(t *testing.T) {
	nodes := startThree(t, newCluster(t))
	waitMembers(t, settle, nodes, "a", "b", "c")
	// Drain the signals of the joins, so the next one is the update's.
	for _, n := range nodes {
		select {
		case <-n.l.Changes():
		default:
		}
	}

	a := nodes[0]
	if err := a.l.Set(Desired{Peers: addrs(nodes[1]), Meta: []byte("meta-a-2")}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	for _, n := range nodes[1:] {
		select {
		case <-n.l.Changes():
		case <-time.After(settle):
			t.Fatalf("%s got no change signal for a's new meta", n.name)
		}
	}
	waitFor(t, settle, "every node to see a's new meta", func() bool {
		for _, n := range nodes {
			if m, _ := metaOf(n.l.Members(), "a"); !bytes.Equal(m, []byte("meta-a-2")) {
				return false
			}
		}
		return true
	})
}

// TestSetMetaArrivesWhenItsGossipIsLost: a's UDP packets long enough to
// carry its new meta are all lost, as gossip can be. The others must still
// see the meta well before memberlist's periodic state exchange (10 s)
// would bring it: the speakers hand IPs over on what the meta says, and a
// stale "settling" keeps two nodes answering.
func TestSetMetaArrivesWhenItsGossipIsLost(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c)
	waitMembers(t, settle, nodes, "a", "b", "c")
	a := nodes[0]
	// Random, so that memberlist's compression cannot make it short.
	long := make([]byte, 400)
	_, _ = rand.Read(long)
	c.net.dropBig(a.addr, 300)
	start := time.Now()
	if err := a.l.Set(Desired{Peers: addrs(nodes[1]), Meta: long}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	waitFor(t, 2*time.Second, "b and c to see a's new meta", func() bool {
		for _, n := range nodes[1:] {
			if m, _ := metaOf(n.l.Members(), "a"); !bytes.Equal(m, long) {
				return false
			}
		}
		return true
	})
	t.Logf("b and c saw a's new meta %v after Set", time.Since(start))
}

func TestSetRejectsBadDesired(t *testing.T) {
	l, err := New(Options{Name: "a", AdvertiseAddr: netip.MustParseAddr("127.0.0.1"), SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	good := Desired{Peers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7001")}, Meta: []byte("ok")}
	if err := l.Set(good); err != nil {
		t.Fatalf("Set(good): %v", err)
	}
	for _, tc := range []struct {
		name string
		d    Desired
		want error
	}{
		{"meta over 512 bytes", Desired{Meta: make([]byte, 513)}, ErrMetaTooLarge},
		{"peer without port", Desired{Peers: []netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), 0)}}, ErrInvalidPeer},
		{"zero peer", Desired{Peers: []netip.AddrPort{{}}}, ErrInvalidPeer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.Set(tc.d); !errors.Is(err, tc.want) {
				t.Errorf("Set: %v, want %v", err, tc.want)
			}
			if got := l.getDesired(); !slices.Equal(got.Peers, good.Peers) || !bytes.Equal(got.Meta, good.Meta) {
				t.Errorf("a rejected Set changed the desired state to %+v", got)
			}
		})
	}
	if err := l.Set(Desired{Meta: make([]byte, 512)}); err != nil {
		t.Errorf("Set with 512 bytes of meta: %v", err)
	}
}

func TestLeaveIsSeenAtOnce(t *testing.T) {
	nodes := startThree(t, newCluster(t))
	waitMembers(t, settle, nodes, "a", "b", "c")

	c := nodes[2]
	start := time.Now()
	left := make(chan error, 1)
	go func() { left <- c.l.Leave(time.Second) }()
	// c's memberlist keeps running and answering probes, so failure
	// detection cannot drop it: if the others do, a leave message did. The
	// direct one arrives before memberlist's gossip, while Leave still
	// waits for that to go out.
	waitMembers(t, settle, nodes[:2], "a", "b")
	t.Logf("the others dropped c %v after it started to leave", time.Since(start).Round(time.Millisecond))
	if err := <-left; err != nil {
		t.Fatalf("Leave: %v", err)
	}
	select {
	case <-c.done:
		t.Fatal("Run returned after Leave; it must run until its context ends")
	default:
	}
	if slices.Contains(c.names(), "c") {
		t.Errorf("c still lists itself after leaving: %v", c.names())
	}
}

func TestLeaveWhenNotRunning(t *testing.T) {
	l, err := New(Options{Name: "a", AdvertiseAddr: netip.MustParseAddr("127.0.0.1"), SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Leave(time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Leave before Run: %v, want ErrNotRunning", err)
	}
	if ms := l.Members(); len(ms) != 0 {
		t.Errorf("Members before Run: %v, want none", ms)
	}

	c := newCluster(t)
	n := c.start("a", freeAddr(t), nil, nil)
	waitMembers(t, settle, []*testNode{n}, "a")
	n.stop(t)
	if err := n.l.Leave(time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Leave after Run returned: %v, want ErrNotRunning", err)
	}
	if ms := n.l.Members(); len(ms) != 0 {
		t.Errorf("Members after Run returned: %v, want none", ms)
	}
}

func TestRunTwice(t *testing.T) {
	c := newCluster(t)
	n := c.start("a", freeAddr(t), nil, nil)
	waitMembers(t, settle, []*testNode{n}, "a")
	if err := n.l.Run(t.Context()); !errors.Is(err, ErrAlreadyRun) {
		t.Errorf("second Run: %v, want ErrAlreadyRun", err)
	}
}

func TestWrongKeyNeverJoins(t *testing.T) {
	c := newCluster(t)
	aa, ba, xa := freeAddr(t), freeAddr(t), freeAddr(t)
	a := c.start("a", aa, []netip.AddrPort{ba, xa}, nil)
	b := c.start("b", ba, []netip.AddrPort{aa, xa}, nil)
	x := c.start("x", xa, []netip.AddrPort{aa, ba}, nil, withKey([]byte("another-key-0123")))
	waitMembers(t, settle, []*testNode{a, b}, "a", "b")

	checkStaysOut(t, x, a, b)
	// Both sides say clearly what is wrong, once.
	if line, ok := x.logs.find("cannot join peer", "different memberlist secret key"); !ok {
		t.Errorf("x did not log a clear join failure; logs:\n%s", x.logs)
	} else {
		t.Logf("x logged: %s", line)
	}
	waitFor(t, settle, "a to log the undecryptable message", func() bool {
		_, ok := a.logs.find("decrypt", "different memberlist secret key")
		return ok
	})
}

// checkStaysOut checks that x, which has tried to join a and b, is not a
// member. Proof that the work was done: x has tried and failed to join
// both, more than once each.
func checkStaysOut(t *testing.T, x, a, b *testNode) {
	t.Helper()
	waitFor(t, settle, "x to fail several joins", func() bool {
		return counterValue(t, x.l.opts.Metrics.JoinAttempts.WithLabelValues(joinError)) >= 4
	})
	for _, n := range []*testNode{a, b} {
		if got := n.names(); !slices.Equal(got, []string{a.name, b.name}) {
			t.Errorf("%s sees %v; x, with the wrong keys, must not be among them", n.name, got)
		}
	}
	if got := x.names(); !slices.Equal(got, []string{x.name}) {
		t.Errorf("x sees %v, want only itself", got)
	}
	if ok := counterValue(t, x.l.opts.Metrics.JoinAttempts.WithLabelValues(joinOK)); ok != 0 {
		t.Errorf("x counted %v successful joins", ok)
	}
}

func TestRejoinSkipsLiveMembers(t *testing.T) {
	// Peers may list an address twice, or in IPv4-mapped form. A live
	// member is joined no more; an address where no speaker answers is
	// retried every round.
	c := newCluster(t)
	aa, ba, dead := freeAddr(t), freeAddr(t), freeAddr(t)
	mapped := netip.AddrPortFrom(netip.AddrFrom16(ba.Addr().As16()), ba.Port())
	a := c.start("a", aa, []netip.AddrPort{ba, mapped, ba, dead}, nil)
	b := c.start("b", ba, nil, nil)
	waitMembers(t, settle, []*testNode{a, b}, "a", "b")

	attempts := a.l.opts.Metrics.JoinAttempts
	// b knows no peers, so a's join brought them together; wait until it
	// is counted, since membership can show before the join returns.
	waitFor(t, settle, "a's join of b to be counted", func() bool {
		return counterValue(t, attempts.WithLabelValues(joinOK)) >= 1
	})
	joined := counterValue(t, attempts.WithLabelValues(joinOK))
	failed := counterValue(t, attempts.WithLabelValues(joinError))
	// Proof that rounds ran: each one retries the dead address once.
	waitFor(t, settle, "five more rejoin rounds", func() bool {
		return counterValue(t, attempts.WithLabelValues(joinError)) >= failed+5
	})
	if got := counterValue(t, attempts.WithLabelValues(joinOK)); got != joined {
		t.Errorf("a joined %v more times while b was a member", got-joined)
	}
}

func TestIPv6(t *testing.T) {
	lo := netip.IPv6Loopback()
	if ln, err := net.Listen("tcp", netip.AddrPortFrom(lo, 0).String()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("IPv6 loopback is needed: %v", err)
		}
		t.Skipf("IPv6 loopback is needed: %v", err)
	} else {
		_ = ln.Close()
	}
	c := newCluster(t)
	aa, ba := freeAddrOn(t, lo), freeAddrOn(t, lo)
	a := c.start("a", aa, []netip.AddrPort{ba}, []byte("meta-a"))
	b := c.start("b", ba, nil, nil)
	waitMembers(t, settle, []*testNode{a, b}, "a", "b")
	if got := b.l.Members(); got[0].Addr != aa || string(got[0].Meta) != "meta-a" {
		t.Errorf("b sees a as %+v, want it at %v with its meta", got[0], aa)
	}
}

// A speaker cut off from the others sees its health score rise within a
// few probe intervals, before it declares them dead; the others, which
// still reach each other, stay healthy; after the heal it falls back to 0.
func TestHealthScoreOfACutOffSpeaker(t *testing.T) {
	c := newCluster(t)
	a0, a1, a2 := freeAddr(t), freeAddr(t), freeAddr(t)
	peers := []netip.AddrPort{a0, a1, a2}
	n0 := c.start("n0", a0, peers, nil)
	n1 := c.start("n1", a1, peers, nil)
	n2 := c.start("n2", a2, peers, nil)
	waitMembers(t, 5*time.Second, []*testNode{n0, n1, n2}, "n0", "n1", "n2")
	if s := n0.l.HealthScore(); s != 0 {
		t.Fatalf("health score before the cut: %d", s)
	}
	cut := time.Now()
	c.net.isolate(a0, a1, a2)
	waitFor(t, 2*time.Second, "n0's health to drop", func() bool { return n0.l.HealthScore() >= 2 })
	t.Logf("health score 2 after %v; n0 still sees %v", time.Since(cut), n0.names())
	if s1, s2 := n1.l.HealthScore(), n2.l.HealthScore(); s1 > 1 || s2 > 1 {
		t.Errorf("the majority's health scores rose too: %d, %d", s1, s2)
	}
	c.net.heal()
	waitFor(t, 5*time.Second, "n0 healthy again", func() bool { return n0.l.HealthScore() == 0 })
}
