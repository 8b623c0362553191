package layer2

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/ethernet"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	testingclock "k8s.io/utils/clock/testing"
)

// testAnnouncer is an Announcer under test whose Run has started.
type testAnnouncer struct {
	*Announcer
	net   *fakeNet
	clock *testingclock.FakeClock
	stop  func() // cancels Run and waits for it
}

func newTestAnnouncer(t *testing.T, o Options) (*Announcer, *fakeNet, *testingclock.FakeClock) {
	t.Helper()
	n := newFakeNet()
	fc := testingclock.NewFakeClock(time.Unix(1_700_000_000, 0))
	o.Clock = fc
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	return newAnnouncer(o, n), n, fc
}

// start runs a's Run until the test ends.
func start(t *testing.T, a *Announcer) func() {
	t.Helper()
	return runInBackground(t, a.Run)
}

func startTestAnnouncer(t *testing.T, o Options) testAnnouncer {
	t.Helper()
	a, n, fc := newTestAnnouncer(t, o)
	return testAnnouncer{Announcer: a, net: n, clock: fc, stop: start(t, a)}
}

func mustSet(t *testing.T, a *Announcer, desired []Announcement) {
	t.Helper()
	if err := a.Set(desired); err != nil {
		t.Fatalf("Set(%v): %v", desired, err)
	}
}

func wantApplied(t *testing.T, a *Announcer, want []Announcement) {
	t.Helper()
	if got := a.Applied(); !slices.Equal(got, want) {
		t.Fatalf("Applied() = %v, want %v", got, want)
	}
}

// waitUntil polls cond, for conditions that only a goroutine of the
// Announcer can make true.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitCounter waits until c reaches want, and fails if it passes it.
func waitCounter(t *testing.T, c prometheus.Counter, want float64, what string) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s reaches %v", what, want), func() bool { return testutil.ToFloat64(c) >= want })
	if got := testutil.ToFloat64(c); got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// announced returns the IPs named by gratuitous frames, in order.
func announced(t *testing.T, ws []written) []string {
	t.Helper()
	var out []string
	for _, w := range ws {
		var f ethernet.Frame
		if err := f.UnmarshalBinary(w.frame); err != nil {
			t.Fatal(err)
		}
		switch f.EtherType {
		case ethernet.EtherTypeARP:
			out = append(out, parseARPFrame(t, w.frame).arp.TargetIP.String())
		case ethernet.EtherTypeIPv6:
			out = append(out, parseNAFrame(t, w.frame).na.TargetAddress.String())
		}
	}
	return out
}

func TestAnnouncerAnswersOnlyOwnedPairs(t *testing.T) {
	m := NewMetrics()
	a := startTestAnnouncer(t, Options{Metrics: m, BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0", vip4b, "eth1"))
	arp0, ndp0 := a.net.conn(t, "eth0", protoARP), a.net.conn(t, "eth0", protoNDP)
	arp0.drain()
	ndp0.drain()

	// vip4b is ours on eth1 only. The reader handles frames in order, so
	// the reply for vip4 proves the request for vip4b was passed over.
	arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4b, ethernet.Broadcast))
	arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast))
	if w := arp0.next(t); parseARPFrame(t, w.frame).arp.SenderIP != vip4 {
		t.Fatalf("first reply on eth0 is for %s, want %s", parseARPFrame(t, w.frame).arp.SenderIP, vip4)
	}
	ndp0.deliver(t, multicastNS(t, vip6b))
	ndp0.deliver(t, multicastNS(t, vip6))
	if w := ndp0.next(t); parseNAFrame(t, w.frame).na.TargetAddress != vip6 {
		t.Fatalf("first advertisement on eth0 is for %s, want %s", parseNAFrame(t, w.frame).na.TargetAddress, vip6)
	}
	for _, c := range []*fakeConn{arp0, ndp0} {
		if extra := c.drain(); len(extra) != 0 {
			t.Fatalf("unexpected frames %v", announced(t, extra))
		}
	}
	// The reader counts a reply after its write returns.
	for _, p := range []string{"arp", "ndp"} {
		for name, c := range map[string]*prometheus.CounterVec{"requests": m.Requests, "ignored": m.Ignored, "replies": m.Replies} {
			waitCounter(t, c.WithLabelValues("eth0", p), 1, p+" "+name+" on eth0")
		}
	}
}

// TestSetDiff: a Set announces only the pairs it adds, and stops answering
// those it removes at once.
func TestSetDiff(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip4b, "eth0"))
	arp0 := a.net.conn(t, "eth0", protoARP)
	if got := announced(t, arp0.drain()); !slices.Equal(got, []string{vip4.String(), vip4b.String()}) {
		t.Fatalf("first Set announced %v, want both", got)
	}

	mustSet(t, a.Announcer, pairs(vip4b, "eth0", vip6, "eth0"))
	wantApplied(t, a.Announcer, pairs(vip4b, "eth0", vip6, "eth0"))
	if got := announced(t, arp0.drain()); len(got) != 0 {
		t.Fatalf("second Set announced %v again on the ARP socket, want nothing", got)
	}
	if got := announced(t, a.net.conn(t, "eth0", protoNDP).drain()); !slices.Equal(got, []string{vip6.String()}) {
		t.Fatalf("second Set announced %v, want only the new %s", got, vip6)
	}
	arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast))
	arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4b, ethernet.Broadcast))
	if ip := parseARPFrame(t, arp0.next(t).frame).arp.SenderIP; ip != vip4b {
		t.Fatalf("first reply after the removal is for %s, want %s", ip, vip4b)
	}
	if a.net.openCount("eth0", protoARP) != 1 {
		t.Fatalf("the ARP socket was reopened; a Set that keeps the interface must keep it")
	}
}

func TestSetClosesListenerOfLastPair(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	mustSet(t, a.Announcer, pairs(vip6, "eth0"))
	if !a.net.conn(t, "eth0", protoARP).isClosed() {
		t.Fatal("the ARP socket stays open without an IPv4 pair")
	}
	mustSet(t, a.Announcer, nil)
	wantApplied(t, a.Announcer, nil)
	if !a.net.conn(t, "eth0", protoNDP).isClosed() || !a.net.group(t, "eth0").closed {
		t.Fatal("the NDP sockets stay open without an IPv6 pair")
	}
}

func TestSetPartialFailureIsRetried(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	a.net.mu.Lock()
	a.net.fail["eth1"] = errInjected
	a.net.mu.Unlock()
	desired := pairs(vip4, "eth0", vip4, "eth1", vip6, "eth1")

	err := a.Set(desired)
	if !errors.Is(err, errInjected) {
		t.Fatalf("Set = %v, want the open error", err)
	}
	for _, want := range []string{"arp on eth1", "ndp on eth1", vip4.String(), vip6.String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	wantApplied(t, a.Announcer, pairs(vip4, "eth0"))
	arp0 := a.net.conn(t, "eth0", protoARP)
	arp0.drain()

	a.net.mu.Lock()
	delete(a.net.fail, "eth1")
	a.net.mu.Unlock()
	mustSet(t, a.Announcer, desired)
	wantApplied(t, a.Announcer, desired)
	if got := announced(t, a.net.conn(t, "eth1", protoARP).drain()); !slices.Equal(got, []string{vip4.String()}) {
		t.Errorf("retry announced %v on eth1 ARP, want %s", got, vip4)
	}
	if got := announced(t, a.net.conn(t, "eth1", protoNDP).drain()); !slices.Equal(got, []string{vip6.String()}) {
		t.Errorf("retry announced %v on eth1 NDP, want %s", got, vip6)
	}
	if got := arp0.drain(); len(got) != 0 {
		t.Errorf("retry announced %v again on eth0", announced(t, got))
	}
}

func TestSetGroupJoinFailure(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	shared := solicitedNode(vip6)
	a.net.failGroup[shared] = struct{}{}
	err := a.Set(pairs(vip6, "eth0", vip6b, "eth0", vip6c, "eth0"))
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), shared.String()) {
		t.Fatalf("Set = %v, want the join error naming %s", err, shared)
	}
	// Both addresses of the failed group are out; the other is in.
	wantApplied(t, a.Announcer, pairs(vip6b, "eth0"))

	g := a.net.group(t, "eth0")
	g.mu.Lock()
	g.fail = addrSet{}
	g.mu.Unlock()
	mustSet(t, a.Announcer, pairs(vip6, "eth0", vip6b, "eth0", vip6c, "eth0"))
	wantApplied(t, a.Announcer, pairs(vip6, "eth0", vip6b, "eth0", vip6c, "eth0"))
	want := []string{"join " + solicitedNode(vip6b).String(), "join " + shared.String()}
	if got := g.events(); !slices.Equal(got, want) {
		t.Fatalf("group events %v, want %v", got, want)
	}
}

// TestSetRefcountsGroups: vip6 and vip6c share a solicited-node group, which
// is joined once and left only with the last of them.
func TestSetRefcountsGroups(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	shared, other := solicitedNode(vip6).String(), solicitedNode(vip6b).String()
	for _, step := range []struct {
		set  []Announcement
		want []string
	}{
		{pairs(vip6, "eth0", vip6c, "eth0"), []string{"join " + shared}},
		{pairs(vip6c, "eth0"), nil},
		{pairs(vip6b, "eth0", vip6c, "eth0"), []string{"join " + other}},
		{pairs(vip6b, "eth0"), []string{"leave " + shared}},
		{pairs(vip6, "eth0", vip6b, "eth0"), []string{"join " + shared}},
	} {
		before := len(a.net.groupEvents("eth0"))
		mustSet(t, a.Announcer, step.set)
		if got := a.net.groupEvents("eth0")[before:]; !slices.Equal(got, step.want) {
			t.Fatalf("Set(%v): group events %v, want %v", step.set, got, step.want)
		}
	}
}

// TestReadErrorClosesListener: a failed read closes the listener and takes
// its pairs out of Applied, without retrying in a loop; the next Set opens
// a new one and announces its pairs again.
func TestReadErrorClosesListener(t *testing.T) {
	m := NewMetrics()
	a := startTestAnnouncer(t, Options{Metrics: m, BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	broken := a.net.conn(t, "eth0", protoARP)
	broken.errs <- errInjected
	waitUntil(t, "the failed listener leaves Applied", func() bool {
		return slices.Equal(a.Applied(), pairs(vip6, "eth0"))
	})
	if !broken.isClosed() {
		t.Fatal("the failed socket is still open")
	}
	if got := testutil.ToFloat64(m.Errors.WithLabelValues("eth0", "arp")); got != 1 {
		t.Fatalf("socket errors = %v, want 1", got)
	}

	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	wantApplied(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	if n := a.net.openCount("eth0", protoARP); n != 2 {
		t.Fatalf("ARP socket opened %d times, want 2", n)
	}
	fresh := a.net.conn(t, "eth0", protoARP)
	if got := announced(t, fresh.drain()); !slices.Equal(got, []string{vip4.String()}) {
		t.Fatalf("reopening announced %v, want %s again", got, vip4)
	}
	fresh.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast))
	fresh.next(t)
}

// TestSetBeforeRun: Set opens sockets and sends the first round before Run;
// requests are answered once Run starts.
func TestSetBeforeRun(t *testing.T) {
	a, n, _ := newTestAnnouncer(t, Options{BurstCount: 1})
	mustSet(t, a, pairs(vip4, "eth0"))
	wantApplied(t, a, pairs(vip4, "eth0"))
	c := n.conn(t, "eth0", protoARP)
	if got := announced(t, c.drain()); !slices.Equal(got, []string{vip4.String()}) {
		t.Fatalf("Set before Run announced %v, want %s", got, vip4)
	}
	start(t, a)
	c.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast))
	c.next(t)
}

func TestRunClosesEverything(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip6, "eth0"))
	a.stop()
	if !a.net.conn(t, "eth0", protoARP).isClosed() || !a.net.conn(t, "eth0", protoNDP).isClosed() || !a.net.group(t, "eth0").closed {
		t.Fatal("Run returned with sockets open")
	}
	if err := a.Set(pairs(vip4, "eth0")); !errors.Is(err, ErrStopped) {
		t.Fatalf("Set after Run = %v, want ErrStopped", err)
	}
	if err := a.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("second Run = %v, want ErrStopped", err)
	}
}

func TestSetRejectsInvalidPairs(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	err := a.Set(append(pairs(vip4, "eth0"), Announcement{IP: vip4b}))
	if !errors.Is(err, ErrInvalidAnnouncement) {
		t.Fatalf("Set = %v, want ErrInvalidAnnouncement", err)
	}
	wantApplied(t, a.Announcer, pairs(vip4, "eth0"))
}
