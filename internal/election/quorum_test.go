package election

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func lease(node string, renewedAgo time.Duration) SpeakerLease {
	return SpeakerLease{Node: node, Renewed: t0.Add(-renewedAgo), Duration: 30 * time.Second}
}

func TestKnown(t *testing.T) {
	leases := []SpeakerLease{lease("a", time.Second), lease("b", 40*time.Second), lease("c", 10*time.Second)}
	tests := []struct {
		name     string
		alive    []string
		ownRenew time.Time
		want     []string
	}{
		{"fresh view drops the expired lease", nil, t0, []string{"a", "c", "self"}},
		{"never renewed: nothing expires", nil, time.Time{}, []string{"a", "b", "c", "self"}},
		{"stale view: nothing renewed since b's lease was live", nil, t0.Add(-20 * time.Second), []string{"a", "b", "c", "self"}},
		{"alive members count without a lease", []string{"d"}, t0, []string{"a", "c", "d", "self"}},
		{"an expired lease of an alive member still counts", []string{"b"}, t0, []string{"a", "b", "c", "self"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Known("self", leases, tt.alive, tt.ownRenew); !slices.Equal(got, tt.want) {
				t.Errorf("Known = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	held := func(holder string, ago time.Duration) TieLease {
		return TieLease{Holder: holder, Seen: t0.Add(-ago), Duration: 4 * time.Second}
	}
	tests := []struct {
		name         string
		known        []string
		alive        []string
		tie          TieLease
		claim, isTie bool
	}{
		{"alone and the only one", nil, nil, TieLease{}, true, false},
		{"all three alive", []string{"a", "b"}, []string{"a", "b"}, TieLease{}, true, false},
		{"two of three", []string{"a", "b"}, []string{"a"}, TieLease{}, true, false},
		{"cut off: one of three", []string{"a", "b"}, nil, TieLease{}, false, false},
		{"alive but unknown members do not count", []string{"a", "b"}, []string{"x", "y"}, TieLease{}, false, false},
		{"two of five", []string{"a", "b", "c", "d"}, []string{"a"}, TieLease{}, false, false},
		{"three of five", []string{"a", "b", "c", "d"}, []string{"a", "b"}, TieLease{}, true, false},
		{"tie, lease free", []string{"a"}, nil, TieLease{}, false, true},
		{"tie, self holds", []string{"a"}, nil, held("self", time.Second), true, true},
		{"tie, self holds but expired", []string{"a"}, nil, held("self", 5*time.Second), false, true},
		{"tie, self held it before this start", []string{"a"}, nil, TieLease{Holder: "self", Seen: t0, Duration: 4 * time.Second, Inherited: true}, false, true},
		{"tie, the other side holds", []string{"a"}, nil, held("a", time.Second), false, true},
		{"tie of four, my side holds", []string{"a", "b", "c"}, []string{"a"}, held("a", time.Second), true, true},
		{"tie of four, other side holds", []string{"a", "b", "c"}, []string{"a"}, held("b", time.Second), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide("self", tt.known, tt.alive, tt.tie, t0)
			if v.Claim != tt.claim || v.Tie != tt.isTie {
				t.Errorf("Decide = %+v, want claim %v tie %v", v, tt.claim, tt.isTie)
			}
		})
	}
}

func TestObserveTie(t *testing.T) {
	v1 := TieLease{Holder: "a", Version: "1", Duration: 4 * time.Second}
	v2 := TieLease{Holder: "a", Version: "2", Duration: 4 * time.Second}
	first := ObserveTie(nil, v1, t0)
	if first.Seen != t0 || !first.Inherited {
		t.Fatalf("first observation = %+v, want seen at t0 and inherited", first)
	}
	same := ObserveTie(&first, v1, t0.Add(time.Second))
	if same.Seen != t0 || !same.Inherited {
		t.Fatalf("same version later = %+v, want the first stamp kept", same)
	}
	next := ObserveTie(&same, v2, t0.Add(2*time.Second))
	if next.Seen != t0.Add(2*time.Second) || next.Inherited {
		t.Fatalf("new version = %+v, want seen now and not inherited", next)
	}
}

func TestNextTieAction(t *testing.T) {
	tie := Verdict{Tie: true}
	majority := Verdict{Claim: true}
	d := 4 * time.Second
	tests := []struct {
		name  string
		v     Verdict
		lease TieLease
		want  TieAction
	}{
		{"no tie, not holding", majority, TieLease{}, TieNone},
		{"no tie, holding: release", majority, TieLease{Holder: "self", Seen: t0, Duration: d}, TieRelease},
		{"tie, free: acquire", tie, TieLease{}, TieAcquire},
		{"tie, holding, fresh", tie, TieLease{Holder: "self", Seen: t0.Add(-time.Second), Duration: d}, TieNone},
		{"tie, holding, a third gone: renew", tie, TieLease{Holder: "self", Seen: t0.Add(-2 * time.Second), Duration: d}, TieRenew},
		{"tie, other holds, fresh", tie, TieLease{Holder: "a", Seen: t0.Add(-time.Second), Duration: d}, TieNone},
		{"tie, other holds, just expired: wait for its side to stop", tie, TieLease{Holder: "a", Seen: t0.Add(-d - time.Millisecond), Duration: d}, TieNone},
		{"tie, other holds, long expired: acquire", tie, TieLease{Holder: "a", Seen: t0.Add(-d - d/4), Duration: d}, TieAcquire},
		{"tie, holding since before this start: renew at once", tie, TieLease{Holder: "self", Seen: t0, Duration: d, Inherited: true}, TieRenew},
		{"tie, other holds since before this start: wait a whole duration", tie, TieLease{Holder: "a", Seen: t0, Duration: d, Inherited: true}, TieNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextTieAction("self", tt.v, tt.lease, t0); got != tt.want {
				t.Errorf("NextTieAction = %v, want %v", got, tt.want)
			}
		})
	}
}

// Both sides of an even split must never claim at once, whatever the Lease
// holds and whatever each side's view of it is at a given instant.
func TestEvenSplitNeverClaimsTwice(t *testing.T) {
	sides := [][]string{{"a", "b"}, {"c", "d"}}
	known := []string{"a", "b", "c", "d"}
	for _, holder := range []string{"", "a", "b", "c", "d"} {
		for _, ago := range []time.Duration{0, time.Second, 3 * time.Second, 4 * time.Second, 10 * time.Second} {
			tie := TieLease{Holder: holder, Seen: t0.Add(-ago), Duration: 4 * time.Second}
			claims := 0
			for _, side := range sides {
				v := Decide(side[0], known, side, tie, t0)
				if v.Claim {
					claims++
				}
			}
			if claims > 1 {
				t.Errorf("holder %q renewed %v ago: both sides claim", holder, ago)
			}
		}
	}
}

func TestHealthy(t *testing.T) {
	tests := []struct {
		name  string
		v     Verdict
		score int
		want  bool
	}{
		{"healthy", Verdict{Claim: true, Alive: 3, Known: 3}, 0, true},
		{"at the limit", Verdict{Claim: true, Alive: 3, Known: 3}, 1, false},
		{"cut off, before declaring the others dead", Verdict{Claim: true, Alive: 3, Known: 3}, 4, false},
		{"two known: the score says nothing", Verdict{Claim: true, Alive: 2, Known: 2}, 4, true},
		{"tie: the Lease decides", Verdict{Claim: true, Tie: true, Alive: 1, Known: 2}, 4, true},
		{"alone", Verdict{Claim: true, Alive: 1, Known: 1}, 4, true},
	}
	for _, tt := range tests {
		if got := Healthy(tt.v, tt.score, 1); got != tt.want {
			t.Errorf("%s: Healthy = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestExpiresBetween(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	l := SpeakerLease{Node: "b", Renewed: t0, Duration: 30 * time.Second}
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     bool
	}{
		{"both renewals within its duration", t0.Add(10 * time.Second), t0.Add(20 * time.Second), false},
		{"the renewal that passes its expiry", t0.Add(29 * time.Second), t0.Add(31 * time.Second), true},
		{"already expired at the earlier renewal", t0.Add(31 * time.Second), t0.Add(32 * time.Second), false},
		{"the first renewal after none", time.Time{}, t0.Add(31 * time.Second), true},
		{"no renewal yet", time.Time{}, time.Time{}, false},
	} {
		if got := ExpiresBetween([]SpeakerLease{l}, c.from, c.to); got != c.want {
			t.Errorf("%s: ExpiresBetween = %v, want %v", c.name, got, c.want)
		}
	}
}
