package liveness

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestJoinFailuresAreLoggedOncePerStreak(t *testing.T) {
	rec := &logRecorder{}
	o := validOptions()
	o.Log = rec.logger()
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := &rejoiner{l: l, failing: map[netip.AddrPort]bool{}}
	peer := netip.MustParseAddrPort("198.51.100.2:7946")
	refused := errors.New("dial tcp 198.51.100.2:7946: connect: connection refused")

	r.report(joinResult{peer: peer, err: refused})
	r.report(joinResult{peer: peer, err: refused})
	r.report(joinResult{peer: peer, err: refused})
	r.report(joinResult{peer: peer})
	r.report(joinResult{peer: peer, err: errors.New("no installed keys could decrypt the message")})

	logs := rec.String()
	if n := strings.Count(logs, `"msg"="cannot join peer`); n != 2 {
		t.Errorf("%d error lines for two failing streaks, want 2:\n%s", n, logs)
	}
	if n := strings.Count(logs, "still cannot join peer"); n != 2 {
		t.Errorf("%d V(1) lines for the repeats, want 2:\n%s", n, logs)
	}
	if _, ok := rec.find("joined peer again", peer.String()); !ok {
		t.Errorf("no line for the recovery:\n%s", logs)
	}
	if _, ok := rec.find("cannot join peer", "decrypt", keyHint); !ok {
		t.Errorf("a decryption failure has no key hint:\n%s", logs)
	}
	if n := strings.Count(logs, keyHint); n != 1 {
		t.Errorf("the key hint appears %d times, want only on the decryption failure:\n%s", n, logs)
	}
	for result, want := range map[string]float64{joinOK: 1, joinError: 4} {
		if got := counterValue(t, l.opts.Metrics.JoinAttempts.WithLabelValues(result)); got != want {
			t.Errorf("%s attempts %v, want %v", result, got, want)
		}
	}
}

// TestSetJoinsAtOnce runs a on a clock that never ticks: only Set can make
// it join b.
func TestSetJoinsAtOnce(t *testing.T) {
	c := newCluster(t)
	clk := clocktesting.NewFakeClock(time.Now())
	a := c.start("a", freeAddr(t), nil, nil, withClock(clk))
	b := c.start("b", freeAddr(t), nil, nil)
	waitMembers(t, settle, []*testNode{a}, "a")
	waitMembers(t, settle, []*testNode{b}, "b")

	if err := a.l.Set(Desired{Peers: addrs(b)}); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, settle, []*testNode{a, b}, "a", "b")
}

// TestTickRetries has a fail to join b, which is not listening yet, then
// start b (which knows no peers): only a's next tick can bring them
// together.
func TestTickRetries(t *testing.T) {
	c := newCluster(t)
	clk := clocktesting.NewFakeClock(time.Now())
	ba := freeAddr(t)
	a := c.start("a", freeAddr(t), []netip.AddrPort{ba}, nil, withClock(clk))
	failed := a.l.opts.Metrics.JoinAttempts.WithLabelValues(joinError)
	waitFor(t, settle, "a's first join to fail", func() bool { return counterValue(t, failed) == 1 })
	waitFor(t, settle, "a's rejoin ticker", clk.HasWaiters)

	b := c.start("b", ba, nil, nil)
	waitMembers(t, settle, []*testNode{b}, "b")
	if a.sees("b") {
		t.Fatal("a found b before its rejoin ticker fired")
	}
	clk.Step(DefaultTimings().RejoinInterval)
	waitMembers(t, settle, []*testNode{a, b}, "a", "b")
}
