package liveness

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func aps(ss ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		out = append(out, netip.MustParseAddrPort(s))
	}
	return out
}

func TestNormalizePeers(t *testing.T) {
	self := netip.MustParseAddrPort("198.51.100.1:7946")
	got, err := normalizePeers(aps(
		"198.51.100.3:7946",
		"198.51.100.1:7946",          // self
		"[::ffff:198.51.100.2]:7946", // mapped
		"198.51.100.2:7946",          // the same, unmapped
		"[2001:db8::1]:7946",
		"198.51.100.1:7000", // same host, another port: another speaker
	), self)
	if err != nil {
		t.Fatal(err)
	}
	want := aps("198.51.100.1:7000", "198.51.100.2:7946", "198.51.100.3:7946", "[2001:db8::1]:7946")
	if !slices.Equal(got, want) {
		t.Errorf("normalizePeers = %v, want %v", got, want)
	}

	for _, bad := range []netip.AddrPort{{}, netip.MustParseAddrPort("198.51.100.2:0"), netip.MustParseAddrPort("0.0.0.0:7946"), netip.MustParseAddrPort("[::]:7946")} {
		if _, err := normalizePeers([]netip.AddrPort{bad}, self); !errors.Is(err, ErrInvalidPeer) {
			t.Errorf("normalizePeers(%v): %v, want ErrInvalidPeer", bad, err)
		}
	}
}

func TestMissingPeers(t *testing.T) {
	peers := aps("198.51.100.2:7946", "198.51.100.3:7946", "198.51.100.4:7946")
	members := []Member{
		{Name: "a", Addr: netip.MustParseAddrPort("198.51.100.1:7946")},
		{Name: "b", Addr: netip.MustParseAddrPort("198.51.100.2:7946")},
		// c moved to another port: its old address is still to be joined.
		{Name: "c", Addr: netip.MustParseAddrPort("198.51.100.3:7000")},
	}
	want := aps("198.51.100.3:7946", "198.51.100.4:7946")
	if got := missingPeers(peers, members); !slices.Equal(got, want) {
		t.Errorf("missingPeers = %v, want %v", got, want)
	}
	if got := missingPeers(nil, members); len(got) != 0 {
		t.Errorf("missingPeers without peers = %v", got)
	}
}

// manyPeers returns n addresses in 198.51.100.0/24 and beyond, port 7946.
func manyPeers(n int) []netip.AddrPort {
	var out []netip.AddrPort
	for i := range n {
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100 + byte(i/250), byte(i%250 + 1)}), DefaultPort))
	}
	return out
}

// TestPickJoinsBoundsARound: a speaker that starts with 499 peers it does
// not see yet (a cold start of 500 speakers) joins only a few of them per
// round; each join is a full state exchange, and the first ones bring it
// most of the rest. A small cluster's missing peers are all joined at once,
// as before.
func TestPickJoinsBoundsARound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	missing := manyPeers(499)
	inflight := map[netip.AddrPort]bool{missing[0]: true, missing[7]: true}
	got := pickJoins(missing, inflight, 0, 8, rng.Shuffle)
	if len(got) != 8 {
		t.Fatalf("a round with 499 peers missing starts %d joins, want 8", len(got))
	}
	seen := map[netip.AddrPort]bool{}
	for _, p := range got {
		if inflight[p] || seen[p] || !slices.Contains(missing, p) {
			t.Errorf("picked %v: in flight %v, twice %v, or not missing", p, inflight[p], seen[p])
		}
		seen[p] = true
	}

	few := manyPeers(5)
	if got := pickJoins(few, map[netip.AddrPort]bool{few[2]: true}, 1, 8, rng.Shuffle); len(got) != 4 || slices.Contains(got, few[2]) {
		t.Errorf("5 peers missing, 1 in flight: joins %v, want the other 4", got)
	}
}

// TestPickJoinsReachesEveryPeer: the choice is random, so no peer is left
// out for good (a partition's other side is reached through any of them).
func TestPickJoinsReachesEveryPeer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	missing := manyPeers(100)
	reached := map[netip.AddrPort]bool{}
	rounds := 0
	for ; len(reached) < len(missing) && rounds < 1000; rounds++ {
		for _, p := range pickJoins(missing, nil, 0, 8, rng.Shuffle) {
			reached[p] = true
		}
	}
	if len(reached) < len(missing) {
		t.Fatalf("after %d rounds %d of %d peers were never picked", rounds, len(missing)-len(reached), len(missing))
	}
	t.Logf("every one of %d peers picked within %d rounds of 8", len(missing), rounds)
}

// TestPickJoinsCountsJoinsInFlight: the bound is on joins at a time, not
// per round. A join to a peer that does not answer holds its slot for up to
// TCPTimeout, several rounds; and on a starved machine a state exchange
// takes as long: new rounds must not pile more joins on top.
func TestPickJoinsCountsJoinsInFlight(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	missing := manyPeers(100)
	inflight := map[netip.AddrPort]bool{}
	for _, p := range missing[:3] {
		inflight[p] = true
	}
	if got := pickJoins(missing, inflight, 3, 8, rng.Shuffle); len(got) != 5 {
		t.Errorf("3 joins in flight, at most 8: %d new, want 5", len(got))
	}
	if got := pickJoins(missing, inflight, 8, 8, rng.Shuffle); len(got) != 0 {
		t.Errorf("8 joins in flight, at most 8: %d new, want none", len(got))
	}
}
