package election

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func ips(first string, n int) []netip.Addr {
	a := netip.MustParseAddr(first)
	out := make([]netip.Addr, 0, n)
	for range n {
		out = append(out, a)
		a = a.Next()
	}
	return out
}

func TestWinnerIsFirstOfRank(t *testing.T) {
	nodes := []string{"node1", "node2", "node3", "node4"}
	for _, ip := range append(ips("198.51.100.64", 64), ips("2001:db8:1::100", 64)...) {
		r := Rank(ip, nodes)
		w, ok := Winner(ip, nodes)
		if !ok || r[0] != w || len(r) != len(nodes) {
			t.Fatalf("%s: Rank = %v, Winner = %q %v", ip, r, w, ok)
		}
	}
}

func TestWinnerNone(t *testing.T) {
	if w, ok := Winner(netip.MustParseAddr("198.51.100.1"), nil); ok || w != "" {
		t.Errorf("Winner of no candidates = %q, %v", w, ok)
	}
	if r := Rank(netip.MustParseAddr("198.51.100.1"), nil); len(r) != 0 {
		t.Errorf("Rank of no candidates = %v", r)
	}
}

func TestRankDropsDuplicates(t *testing.T) {
	r := Rank(netip.MustParseAddr("198.51.100.1"), []string{"b", "a", "b", "a"})
	if len(r) != 2 {
		t.Errorf("Rank = %v, want a and b once each", r)
	}
}

// Every speaker must pick the same winner whatever order it lists the
// candidates in: the order comes from maps and informer caches.
func TestWinnerIgnoresCandidateOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nodes := []string{"node1", "node2", "node3", "node4", "node5"}
	for _, ip := range ips("198.51.100.64", 200) {
		want, _ := Winner(ip, nodes)
		wantRank := Rank(ip, nodes)
		for range 5 {
			shuffled := slices.Clone(nodes)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if got, _ := Winner(ip, shuffled); got != want {
				t.Fatalf("%s: winner of %v = %s, of %v = %s", ip, nodes, want, shuffled, got)
			}
			if got := Rank(ip, shuffled); !slices.Equal(got, wantRank) {
				t.Fatalf("%s: rank differs with order: %v vs %v", ip, got, wantRank)
			}
		}
	}
}

// When a node goes, only the IPs it won move; when it comes back, exactly
// those move back. This is what keeps failover from disturbing other IPs.
func TestRemovingANodeMovesOnlyItsIPs(t *testing.T) {
	nodes := []string{"node1", "node2", "node3", "node4"}
	for _, gone := range nodes {
		rest := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n == gone })
		for _, ip := range ips("2001:db8:1::100", 256) {
			before, _ := Winner(ip, nodes)
			after, _ := Winner(ip, rest)
			if before != gone && after != before {
				t.Fatalf("%s moved from %s to %s when %s went", ip, before, after, gone)
			}
			if before == gone && after != Rank(ip, nodes)[1] {
				t.Fatalf("%s went to %s, not to the runner-up %s", ip, after, Rank(ip, nodes)[1])
			}
		}
	}
}

func TestSpread(t *testing.T) {
	// The lab's 3 nodes and the first 30 addresses of its Layer 2 pool: the
	// end-to-end test expects at least 5 on every node.
	nodes := []string{"node1", "node2", "node3"}
	count := map[string]int{}
	for _, ip := range ips("198.51.100.64", 30) {
		w, _ := Winner(ip, nodes)
		count[w]++
	}
	for _, n := range nodes {
		if count[n] < 5 {
			t.Errorf("%s wins %d of 30 addresses, want at least 5 (%v)", n, count[n], count)
		}
	}
	// Over many addresses, every node gets close to its share.
	count = map[string]int{}
	for i := range 10 {
		for _, ip := range ips(fmt.Sprintf("2001:db8:%x::", i+1), 1000) {
			w, _ := Winner(ip, nodes)
			count[w]++
		}
	}
	for _, n := range nodes {
		if share := float64(count[n]) / 10000; share < 0.30 || share > 0.37 {
			t.Errorf("%s wins %.3f of addresses, want about a third (%v)", n, share, count)
		}
	}
}

func BenchmarkWinner(b *testing.B) {
	nodes := []string{"node1", "node2", "node3"}
	all := ips("198.51.100.0", 256)
	b.ResetTimer()
	for i := range b.N {
		Winner(all[i%len(all)], nodes)
	}
}
