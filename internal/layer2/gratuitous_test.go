package layer2

import (
	"bytes"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitTimer waits until the burst loop sleeps on a timer.
func (a testAnnouncer) waitTimer(t *testing.T) {
	t.Helper()
	waitUntil(t, "the burst loop waits on a timer", a.clock.HasWaiters)
}

// collect waits for n frames on c.
func collect(t *testing.T, c *fakeConn, n int) []written {
	t.Helper()
	var out []written
	for range n {
		out = append(out, c.next(t))
	}
	return out
}

// TestTakeoverBurst: each new pair gets BurstCount rounds, the first during
// Set and the others BurstInterval apart, and nothing after.
func TestTakeoverBurst(t *testing.T) {
	m := NewMetrics()
	a := startTestAnnouncer(t, Options{Metrics: m})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	arp0, ndp0 := a.net.conn(t, "eth0", protoARP), a.net.conn(t, "eth0", protoNDP)

	// Round 1 was written before Set returned.
	for _, c := range []*fakeConn{arp0, ndp0} {
		if got := c.drain(); len(got) != 1 {
			t.Fatalf("round 1: %d frames, want 1", len(got))
		}
	}
	for round := 2; round <= DefaultBurstCount; round++ {
		a.waitTimer(t)
		a.clock.Step(DefaultBurstInterval - time.Millisecond)
		if !a.clock.HasWaiters() {
			t.Fatalf("round %d: the timer fired before the interval", round)
		}
		if got := append(arp0.drain(), ndp0.drain()...); len(got) != 0 {
			t.Fatalf("round %d: %d frames before the interval", round, len(got))
		}
		a.clock.Step(time.Millisecond)
		w4, w6 := collect(t, arp0, 1)[0], collect(t, ndp0, 1)[0]
		if p := parseARPFrame(t, w4.frame); p.arp.SenderIP != vip4 || p.arp.TargetIP != vip4 || !bytes.Equal(p.arp.SenderHardwareAddr, ourMAC) {
			t.Fatalf("round %d: ARP %+v, want an announcement of %s by %s", round, p.arp, vip4, ourMAC)
		}
		if p := parseNAFrame(t, w6.frame); p.na.TargetAddress != vip6 || !p.na.Override || !bytes.Equal(p.tlla, ourMAC) {
			t.Fatalf("round %d: NA %+v, want an override for %s by %s", round, p.na, vip6, ourMAC)
		}
	}
	// The burst is over when the loop no longer sleeps on a timer.
	waitUntil(t, "the burst loop is idle", func() bool { return !a.clock.HasWaiters() })
	a.clock.Step(time.Minute)
	if got := append(arp0.drain(), ndp0.drain()...); len(got) != 0 {
		t.Fatalf("%d frames after the burst", len(got))
	}
	for _, p := range []string{"arp", "ndp"} {
		waitCounter(t, m.Gratuitous.WithLabelValues("eth0", p), DefaultBurstCount, p+" gratuitous")
	}
}

func TestBurstEndsWithItsPair(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 2})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip4b, "eth0"))
	c := a.net.conn(t, "eth0", protoARP)
	c.drain()
	mustSet(t, a.Announcer, pairs(vip4b, "eth0"))
	a.waitTimer(t)
	a.clock.Step(DefaultBurstInterval)
	if got := announced(t, collect(t, c, 1)); !slices.Equal(got, []string{vip4b.String()}) {
		t.Fatalf("round 2 announced %v, want only %s", got, vip4b)
	}
	waitUntil(t, "the burst loop is idle", func() bool { return !a.clock.HasWaiters() })
	if got := c.drain(); len(got) != 0 {
		t.Fatalf("round 2 also announced %v", announced(t, got))
	}
}

// TestAnnounceOwnRestartsBurst: Announce with our own MAC sends a round at
// once and restarts the burst; it needs the pair in effect.
func TestAnnounceOwnRestartsBurst(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 2})
	mustSet(t, a.Announcer, pairs(vip4, "eth0"))
	c := a.net.conn(t, "eth0", protoARP)
	c.drain()
	a.waitTimer(t)
	a.clock.Step(DefaultBurstInterval / 2)
	if err := a.Announce([]Gratuitous{{IP: vip4, Interface: "eth0"}}); err != nil {
		t.Fatal(err)
	}
	if got := announced(t, c.drain()); !slices.Equal(got, []string{vip4.String()}) {
		t.Fatalf("Announce sent %v at once, want %s", got, vip4)
	}
	// The restarted burst is due a full interval after Announce, not
	// when Set's burst was.
	a.waitTimer(t)
	a.clock.Step(DefaultBurstInterval / 2)
	// Whether that step fired the old timer or not, the loop sleeps on a
	// timer again only after it has seen the new time.
	a.waitTimer(t)
	if got := c.drain(); len(got) != 0 {
		t.Fatalf("the old burst still sent %v", announced(t, got))
	}
	a.clock.Step(DefaultBurstInterval / 2)
	collect(t, c, 1)

	for _, g := range []Gratuitous{
		{IP: vip4b, Interface: "eth0"},
		{IP: vip4b, Interface: "eth0", MAC: ourMAC},
		{IP: vip4, Interface: "eth1"},
	} {
		if err := a.Announce([]Gratuitous{g}); !errors.Is(err, ErrNotApplied) {
			t.Errorf("Announce(%v) = %v, want ErrNotApplied", g, err)
		}
	}
	if err := a.Announce([]Gratuitous{{IP: vip4, Interface: "eth0", MAC: net.HardwareAddr{1, 0, 0, 0, 0, 1}}}); !errors.Is(err, ErrInvalidAnnouncement) {
		t.Errorf("Announce with a multicast owner = %v, want ErrInvalidAnnouncement", err)
	}
}

// TestAnnounceHandover: a foreign MAC is one round, written before Announce
// returns, on a socket opened for the call if none is open, and it ends our
// own burst for the pair.
func TestAnnounceHandover(t *testing.T) {
	a := startTestAnnouncer(t, Options{})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip4b, "eth0"))
	c := a.net.conn(t, "eth0", protoARP)
	c.drain()
	if err := a.Announce([]Gratuitous{{IP: vip4, Interface: "eth0", MAC: otherMAC}}); err != nil {
		t.Fatal(err)
	}
	w := c.drain()
	if len(w) != 1 || !bytes.Equal(parseARPFrame(t, w[0].frame).arp.SenderHardwareAddr, otherMAC) {
		t.Fatalf("handover sent %d frames, want one naming %s", len(w), otherMAC)
	}
	// Our burst for vip4 ended; vip4b's goes on.
	a.waitTimer(t)
	a.clock.Step(DefaultBurstInterval)
	if got := announced(t, collect(t, c, 1)); !slices.Equal(got, []string{vip4b.String()}) {
		t.Fatalf("round 2 announced %v, want only %s", got, vip4b)
	}

	mustSet(t, a.Announcer, nil)
	if err := a.Announce([]Gratuitous{{IP: vip6, Interface: "eth0", MAC: otherMAC}}); err != nil {
		t.Fatal(err)
	}
	transient := a.net.conn(t, "eth0", protoNDP)
	p := parseNAFrame(t, transient.next(t).frame)
	if p.na.TargetAddress != vip6 || !bytes.Equal(p.tlla, otherMAC) || p.na.Solicited || !p.na.Override {
		t.Fatalf("handover NA %+v naming %s, want an override for %s naming %s", p.na, p.tlla, vip6, otherMAC)
	}
	if !transient.isClosed() || !a.net.group(t, "eth0").closed {
		t.Fatal("the socket opened for the handover is still open")
	}
	if len(a.net.groupEvents("eth0")) != 0 {
		t.Fatal("the handover joined a group")
	}
}

// TestBurstStartSurvivesFailingListener: a listener whose reader fails
// while Set is sending the first rounds of its new pairs (here: during the
// first write) does not crash Set; the pair is simply not in effect
// afterwards, and the next Set reopens it.
func TestBurstStartSurvivesFailingListener(t *testing.T) {
	a, n, _ := newTestAnnouncer(t, Options{})
	start(t, a)
	// Set starts readers only once Run is running.
	waitUntil(t, "Run is running", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.state == running
	})
	var once sync.Once
	n.onWrite = func(c *fakeConn, _ []byte) {
		once.Do(func() {
			// The reader sees a read error, marks the listener failed
			// and closes it; wait for that before the write goes on.
			c.errs <- errInjected
			select {
			case <-c.closed:
			case <-time.After(waitFor):
				t.Error("the reader did not close the failed listener")
			}
		})
	}
	if err := a.Set(pairs(vip4, "eth0", vip4b, "eth0")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	wantApplied(t, a, nil)
	n.onWrite = nil
	mustSet(t, a, pairs(vip4, "eth0", vip4b, "eth0"))
	wantApplied(t, a, pairs(vip4, "eth0", vip4b, "eth0"))
}
