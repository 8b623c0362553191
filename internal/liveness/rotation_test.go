package liveness

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func withKeys(k Keys) nodeOpt {
	return func(o *Options) { o.SecretKey, o.SecondaryKeys = k.Primary, k.Secondary }
}

// trouble is what memberlist logs (at V(1) and up, which the test loggers
// keep) when a speaker cannot read another's messages, or suspects, accuses
// or declares dead a speaker: none of it may appear during a rotation.
var trouble = []string{"decrypt", "suspect", "as failed", "refuting", "member left or failed"}

// TestKeyRotationLosesNoGossip rotates three running speakers from key A to
// key B in the three documented steps, one speaker at a time, as a
// DaemonSet's speakers pick up a changed Secret one by one. After every
// single speaker's change, each speaker gossips new meta, and every other
// one must receive it, while all three stay alive members and none suspects
// another or fails to decrypt a message.
func TestKeyRotationLosesNoGossip(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c, withKeys(Keys{Primary: keyA}))
	waitMembers(t, settle, nodes, "a", "b", "c")
	round := 0
	checkGossip(t, nodes, "start", round)

	for _, step := range []struct {
		name string
		keys Keys
	}{
		{"step 1, add B as secondary", Keys{Primary: keyA, Secondary: [][]byte{keyB}}},
		{"step 2, switch the primary to B", Keys{Primary: keyB, Secondary: [][]byte{keyA}}},
		{"step 3, remove A", Keys{Primary: keyB}},
	} {
		for _, n := range nodes {
			if err := n.l.SetKeys(step.keys); err != nil {
				t.Fatalf("%s on %s: %v", step.name, n.name, err)
			}
			round++
			checkGossip(t, nodes, fmt.Sprintf("%s, applied up to %s", step.name, n.name), round)
		}
	}
	for _, n := range nodes {
		if got := keysString(n.l.InstalledKeys()); got != "B+" {
			t.Errorf("%s holds %s at the end, want B alone", n.name, got)
		}
	}
}

// checkGossip fails the test if gossipTrouble finds any.
func checkGossip(t *testing.T, nodes []*testNode, when string, round int) {
	t.Helper()
	if err := gossipTrouble(nodes, round, settle); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// gossipTrouble has every node gossip meta of this round and waits, up to
// limit, until every node has every other's. Then it checks that, since the
// start of the test, no node saw another leave or die, and none logged
// trouble.
func gossipTrouble(nodes []*testNode, round int, limit time.Duration) error {
	metaOfRound := func(n *testNode) string { return fmt.Sprintf("meta-%s-%d", n.name, round) }
	for _, n := range nodes {
		if err := n.l.Set(Desired{Peers: n.l.getDesired().Peers, Meta: []byte(metaOfRound(n))}); err != nil {
			return fmt.Errorf("Set(%s): %w", n.name, err)
		}
	}
	missing := func() []string {
		var out []string
		for _, n := range nodes {
			ms := n.l.Members()
			for _, o := range nodes {
				if m, ok := metaOf(ms, o.name); !ok || string(m) != metaOfRound(o) {
					out = append(out, fmt.Sprintf("%s lacks %s's", n.name, o.name))
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(limit)
	for m := missing(); len(m) > 0; m = missing() {
		if time.Now().After(deadline) {
			return fmt.Errorf("the meta of round %d did not arrive within %v: %s", round, limit, strings.Join(m, ", "))
		}
		time.Sleep(10 * time.Millisecond)
	}
	var errs []error
	for _, n := range nodes {
		if got := n.l.opts.Metrics.MemberChanges.WithLabelValues(changeLeave); readCounter(got) != 0 {
			errs = append(errs, fmt.Errorf("%s counted %v members leaving or dead", n.name, readCounter(got)))
		}
		if line, ok := findTrouble(n.logs); ok {
			errs = append(errs, fmt.Errorf("%s logged trouble: %s", n.name, line))
		}
	}
	return errors.Join(errs...)
}

func findTrouble(r *logRecorder) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		low := strings.ToLower(l)
		for _, s := range trouble {
			if strings.Contains(low, s) {
				return l, true
			}
		}
	}
	return "", false
}

// TestKeyringWithoutThePrimaryInUseNeverJoins proves that the keyring
// really encrypts: a speaker that cannot read what the others send, or
// whose messages they cannot read, stays out.
func TestKeyringWithoutThePrimaryInUseNeverJoins(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys Keys
	}{
		{"it lacks the others' primary A", Keys{Primary: keyB, Secondary: [][]byte{keyC}}},
		{"it reads A but sends with B, which the others lack", Keys{Primary: keyB, Secondary: [][]byte{keyA}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			aa, ba, xa := freeAddr(t), freeAddr(t), freeAddr(t)
			others := withKeys(Keys{Primary: keyA, Secondary: [][]byte{keyC}})
			a := c.start("a", aa, nil, nil, others)
			b := c.start("b", ba, nil, nil, others)
			x := c.start("x", xa, nil, nil, withKeys(tc.keys))
			waitMembers(t, settle, []*testNode{a}, "a")
			waitMembers(t, settle, []*testNode{b}, "b")
			waitMembers(t, settle, []*testNode{x}, "x")
			for _, n := range []*testNode{a, b, x} {
				if err := n.l.Set(Desired{Peers: addrs(a, b, x)}); err != nil {
					t.Fatal(err)
				}
			}
			waitMembers(t, settle, []*testNode{a, b}, "a", "b")
			checkStaysOut(t, x, a, b)
			waitFor(t, 2*time.Second, "a or b to log an undecryptable message", func() bool {
				_, okA := a.logs.find("decrypt", keyHint)
				_, okB := b.logs.find("decrypt", keyHint)
				return okA || okB
			})
		})
	}
}

// TestKeyRotationCheckCatchesASkippedStep is the rotation test's control:
// a speaker that sends with B before the others read it breaks gossip, and
// gossipTrouble must say so.
func TestKeyRotationCheckCatchesASkippedStep(t *testing.T) {
	c := newCluster(t)
	nodes := startThree(t, c, withKeys(Keys{Primary: keyA}))
	waitMembers(t, settle, nodes, "a", "b", "c")
	checkGossip(t, nodes, "start", 0)

	if err := nodes[0].l.SetKeys(Keys{Primary: keyB}); err != nil {
		t.Fatal(err)
	}
	err := gossipTrouble(nodes, 1, 2*time.Second)
	if err == nil {
		t.Fatal("no trouble found after a switched to B, which b and c cannot read")
	}
	t.Logf("found, as it must: %v", err)
}

// readCounter is counterValue for code that must not fail the test itself.
func readCounter(c prometheus.Counter) float64 {
	var pb dto.Metric
	if err := c.Write(&pb); err != nil {
		return -1
	}
	return pb.GetCounter().GetValue()
}
