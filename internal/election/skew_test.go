package election

import (
	"strconv"
	"testing"
	"time"
)

// skewNode is one speaker of a two-node tie in the skew simulation: its
// own clock runs offset from real time, and cutOff is when it loses the
// apiserver (its view of the Lease freezes and its writes fail) while it
// keeps running.
type skewNode struct {
	name   string
	offset time.Duration
	cutOff time.Duration
	view   skewStore
	// tie is the Lease as this node judges it, stamped on its own clock.
	tie *TieLease
}

// skewStore is the tie-breaker Lease in the apiserver: what its holder
// wrote, with the holder's own clock, and a version bumped on each write.
type skewStore struct {
	lease   TieLease
	version int
}

// write is an optimistic update: it lands only on the version the writer
// last saw.
func (s *skewStore) write(seen skewStore, l TieLease) {
	if seen.version == s.version {
		s.lease = l
		s.version++
	}
}

// TestTieBreakerIgnoresClockSkew: two speakers split one to one, each
// with a clock skewed ±5 s, and the holder cut off from the apiserver
// while it runs on. Each reads the Lease as it was at the end of the
// previous step, as a cache would. At no step may both answer, whichever
// holds first.
func TestTieBreakerIgnoresClockSkew(t *testing.T) {
	const d = 10 * time.Second
	const step = 100 * time.Millisecond
	real0 := t0
	skews := []time.Duration{-5 * time.Second, -2 * time.Second, 0, 3 * time.Second, 5 * time.Second}
	for _, offsets := range pairsOf(skews) {
		for _, cut := range []time.Duration{10 * time.Second, 20 * time.Second, 23*time.Second + 300*time.Millisecond} {
			nodes := []*skewNode{
				{name: "a", offset: offsets[0], cutOff: cut},
				{name: "b", offset: offsets[1], cutOff: time.Hour},
			}
			var store skewStore
			known := []string{"a", "b"}
			for el := time.Duration(0); el < time.Minute; el += step {
				claims := 0
				last := store
				for _, n := range nodes {
					now := real0.Add(el + n.offset)
					reach := el < n.cutOff
					if reach {
						n.view = last
					}
					cur := n.view.lease
					cur.Version = strconv.Itoa(n.view.version)
					tie := ObserveTie(n.tie, cur, now)
					n.tie = &tie
					v := Decide(n.name, known, []string{n.name}, tie, now)
					if v.Claim {
						claims++
					}
					switch NextTieAction(n.name, v, tie, now) {
					case TieAcquire, TieRenew:
						if reach {
							store.write(n.view, TieLease{Holder: n.name, Side: []string{n.name}, Duration: d})
						}
					case TieRelease:
						if reach {
							store.write(n.view, TieLease{})
						}
					}
				}
				if claims > 1 {
					t.Errorf("offsets %v, cut off at %v, %v after the start: both speakers answer (holder %q)", offsets, cut, el, store.lease.Holder)
					break
				}
			}
			if store.lease.Holder != "b" {
				t.Errorf("offsets %v, cut off at %v: at the end %q holds the Lease, want b, which can still reach the apiserver", offsets, cut, store.lease.Holder)
			}
		}
	}
}

// pairsOf returns every ordered pair of xs.
func pairsOf(xs []time.Duration) [][2]time.Duration {
	var out [][2]time.Duration
	for _, x := range xs {
		for _, y := range xs {
			out = append(out, [2]time.Duration{x, y})
		}
	}
	return out
}
