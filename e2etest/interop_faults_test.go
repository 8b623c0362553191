package e2etest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldlb/herald/e2etest/gobgprouter"
	"github.com/heraldlb/herald/e2etest/lab"
)

// The reasons a speaker gives (internal/bgp/reason.go) when the second
// router goes away, stops answering, or has another password.
var (
	restartReasons = []string{"the router closed the session", "the router closed the TCP connection", "connection refused by 198.51.100.2:179"}
	holdReasons    = []string{"hold timer expired", "no answer from 198.51.100.2:179"}
	md5Reasons     = []string{"the router has another TCP MD5 password"}
)

// restart stops the second router, which closes every session with a
// NOTIFICATION, and starts it again once every node says why its session
// is down.
func (s *interopSuite) restart(t *testing.T) {
	ctx := s.ctx(t)
	s.waitAllUp(ctx, t)
	s.l.StopGoBGP()
	s.waitReason(ctx, t, 20*time.Second, restartReasons)
	if err := s.l.StartGoBGP(ctx, lab.BGPPassword); err != nil {
		t.Fatal(err)
	}
	s.waitRecovery(ctx, t, time.Now())
}

// holdExpiry drops every BGP segment in the router's namespace: nothing
// closes the sessions, keepalives stop, and the hold timer (9s) expires.
func (s *interopSuite) holdExpiry(t *testing.T) {
	ctx := s.ctx(t)
	s.waitAllUp(ctx, t)
	start := time.Now()
	if err := s.l.BlockGoBGP(ctx, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.l.BlockGoBGP(context.Background(), false) })
	s.waitReason(ctx, t, lab.GoBGPHoldTime+10*time.Second, holdReasons)
	down := time.Since(start)
	want := "hold timer expired: no message from the router for " + lab.GoBGPHoldTime.String()
	for i := range s.l.Nodes {
		if err := waitErr(ctx, 5*time.Second, func() error { return logHas(s.l, i+1, want) }); err != nil {
			t.Error(err)
		}
	}
	t.Logf("sessions down %v after the router's BGP traffic was dropped (hold time %v)", down, lab.GoBGPHoldTime)
	if down < lab.GoBGPHoldTime-lab.GoBGPHoldTime/3-time.Second {
		t.Errorf("sessions went down %v after the block: before the hold time could expire", down)
	}
	if err := s.l.BlockGoBGP(ctx, false); err != nil {
		t.Fatal(err)
	}
	s.waitRecovery(ctx, t, time.Now())
}

// md5Mismatch restarts the router with another TCP MD5 password: its
// kernel drops the nodes' segments without a word, then the right password
// comes back.
func (s *interopSuite) md5Mismatch(t *testing.T) {
	ctx := s.ctx(t)
	s.waitAllUp(ctx, t)
	s.l.StopGoBGP()
	if err := s.l.StartGoBGP(ctx, "not-the-password"); err != nil {
		t.Fatal(err)
	}
	s.waitReason(ctx, t, 30*time.Second, md5Reasons)
	for i := range s.l.Nodes {
		if err := logHas(s.l, i+1, md5Reasons[0]); err != nil {
			t.Error(err)
		}
	}
	if n, err := lab.GoBGPNeighbors(ctx); err != nil || established(n) != 0 {
		t.Errorf("sessions up with the wrong password: %+v %v", n, err)
	}
	s.l.StopGoBGP()
	if err := s.l.StartGoBGP(ctx, lab.BGPPassword); err != nil {
		t.Fatal(err)
	}
	s.waitRecovery(ctx, t, time.Now())
}

// waitAllUp waits for the router to have every node's two sessions up.
func (s *interopSuite) waitAllUp(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := waitErr(ctx, 60*time.Second, s.allUp(ctx)); err != nil {
		t.Fatal(err)
	}
}

func (s *interopSuite) allUp(ctx context.Context) func() error {
	return func() error {
		n, err := lab.GoBGPNeighbors(ctx)
		if err != nil {
			return err
		}
		if established(n) != 2*len(s.l.Nodes) {
			return fmt.Errorf("the router's sessions: %+v", n)
		}
		return nil
	}
}

// waitRecovery wants every session up, as the router sees it, within the
// hold time of since (when the fault cleared), and then every node's
// record to say so.
func (s *interopSuite) waitRecovery(ctx context.Context, t *testing.T, since time.Time) {
	t.Helper()
	err := lab.PollUntil(ctx, 50*time.Millisecond, 2*lab.GoBGPHoldTime, func() (bool, error) {
		return s.allUp(ctx)() == nil, nil
	})
	took := time.Since(since)
	if err != nil {
		t.Fatalf("sessions not back %v after the fault cleared: %v", took, s.allUp(ctx)())
	}
	t.Logf("every session back %v after the fault cleared", took)
	if took > lab.GoBGPHoldTime {
		t.Errorf("sessions came back after %v, want within the hold time %v", took, lab.GoBGPHoldTime)
	}
	err = waitErr(ctx, 10*time.Second, func() error {
		for _, n := range s.l.Nodes {
			if line, err := peerLine(ctx, s.l, n.Name, lab.GoBGPPeer4); err != nil || !strings.Contains(line, " Established ") {
				return fmt.Errorf("%s's HeraldNode: %q %v", n.Name, line, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// waitReason waits until every node's HeraldNode shows its session to the
// second router down, with an error that contains one of reasons.
func (s *interopSuite) waitReason(ctx context.Context, t *testing.T, timeout time.Duration, reasons []string) {
	t.Helper()
	lines := map[string]string{}
	err := waitErr(ctx, timeout, func() error {
		for _, n := range s.l.Nodes {
			line, err := peerLine(ctx, s.l, n.Name, lab.GoBGPPeer4)
			if err != nil {
				return err
			}
			lines[n.Name] = line
			if strings.Contains(line, " Established ") || !containsAny(line, reasons) {
				return fmt.Errorf("%s's HeraldNode says %q of %s, want one of %q", n.Name, line, lab.GoBGPPeer4, reasons)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for node, line := range lines {
		t.Logf("%s's HeraldNode: %s", node, line)
	}
}

// peerLine is node's HeraldNode entry for peer, as one line: "name address
// State prefixes=N error=...".
func peerLine(ctx context.Context, l *lab.Lab, node, peer string) (string, error) {
	st, err := l.HeraldNode(ctx, node)
	if err != nil {
		return "", err
	}
	for _, p := range st.BGPPeers {
		if p.Name == peer {
			return fmt.Sprintf("%s %s %s prefixes=%d error=%q", p.Name, p.PeerAddress, p.State, p.PrefixesSent, p.LastError), nil
		}
	}
	return "", fmt.Errorf("%s's HeraldNode has no entry for %s: %+v", node, peer, st.BGPPeers)
}

// logHas checks that node i's speaker logged a session not up for reason.
func logHas(l *lab.Lab, i int, reason string) error {
	for _, line := range strings.Split(l.Speaker(i).LogTail(5000), "\n") {
		if strings.Contains(line, "BGP session not up") && strings.Contains(line, reason) {
			return nil
		}
	}
	return fmt.Errorf("node%d's speaker logged no \"BGP session not up\" with %q", i, reason)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// established counts the router's sessions that are up.
func established(ns []gobgprouter.Neighbor) int {
	n := 0
	for _, x := range ns {
		if x.State == "established" {
			n++
		}
	}
	return n
}
