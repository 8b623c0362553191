package main

import (
	"sync"
	"time"
)

// board counts, for every IP, the speakers that claim it, updated on every
// claim any speaker makes: a count of two is two nodes answering ARP for one
// IP, and is recorded the moment it happens rather than at the next sample.
type board struct {
	mu    sync.Mutex
	count []int
	owned [][]int // per speaker, sorted
	// max is the most claims of one IP since reset, at maxAt; doubles
	// counts the times an IP went to two claims or more.
	max     int
	maxAt   time.Time
	doubles int
	// doublesEver is doubles over the whole run, never reset.
	doublesEver int
	// victim is the speaker killed in this round (-1: none); sawDead is
	// when each speaker's view first lacked it.
	victim  int
	sawDead []time.Time
	// victimIPs are the IPs the victim owned; settledAt is when each of
	// them first had exactly one owner again.
	victimIPs []int
	settledAt time.Time
	// flaps counts IPs left with no owner although their owner lives
	// (a speaker that lost quorum or health), in this round.
	flaps int
}

func newBoard(ips, speakers int) *board {
	return &board{count: make([]int, ips), owned: make([][]int, speakers),
		victim: -1, sawDead: make([]time.Time, speakers)}
}

// set records what s claims now, and whether its view (alive, by index)
// lacks the victim. A dead speaker's late claims are ignored.
func (b *board) set(s *speaker, owned []int, alive []bool) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.dead.Load() {
		return
	}
	b.replace(s.idx, owned, now, false)
	if b.victim >= 0 && !alive[b.victim] && b.sawDead[s.idx].IsZero() {
		b.sawDead[s.idx] = now
	}
}

// drop takes away everything s claims: it was killed.
func (b *board) drop(s *speaker) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.replace(s.idx, nil, time.Now(), true)
}

// replace swaps speaker i's claims for owned, both sorted. An IP that
// loses its only owner without that owner dying (killed false) is a flap.
func (b *board) replace(i int, owned []int, now time.Time, killed bool) {
	removed, added := diff(b.owned[i], owned)
	b.owned[i] = owned
	for _, ip := range removed {
		b.count[ip]--
		if b.count[ip] == 0 && !killed {
			b.flaps++
		}
	}
	for _, ip := range added {
		b.count[ip]++
		if b.count[ip] >= 2 {
			b.doubles++
			b.doublesEver++
		}
		if b.count[ip] > b.max {
			b.max, b.maxAt = b.count[ip], now
		}
	}
	if b.victim >= 0 && b.settledAt.IsZero() && b.allOwned() {
		b.settledAt = now
	}
}

// allOwned reports whether each of the victim's IPs has exactly one owner.
func (b *board) allOwned() bool {
	for _, ip := range b.victimIPs {
		if b.count[ip] != 1 {
			return false
		}
	}
	return true
}

// diff returns what is in old and not in new, and the reverse; both are
// sorted.
func diff(old, new []int) (removed, added []int) {
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || i < len(old) && old[i] < new[j]:
			removed = append(removed, old[i])
			i++
		case i == len(old) || new[j] < old[i]:
			added = append(added, new[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	return removed, added
}

// beginRound makes victim this round's victim and returns the IPs it owns.
func (b *board) beginRound(victim int) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.victim = victim
	b.victimIPs = append([]int(nil), b.owned[victim]...)
	b.settledAt = time.Time{}
	clear(b.sawDead)
	b.max, b.doubles, b.flaps = 0, 0, 0
	for _, n := range b.count {
		b.max = max(b.max, n)
	}
	return b.victimIPs
}

// sample is the state at one instant of a round.
type sample struct {
	at time.Duration
	// seeDead: live speakers whose view lacks the victim; settled: the
	// victim's IPs with exactly one owner; unanswered: those with none;
	// maxAnswers: the most owners of any IP.
	seeDead, settled, unanswered, maxAnswers int
}

func (b *board) sample(t0 time.Time, ips []int, live []bool) sample {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := sample{at: time.Since(t0)}
	for i, at := range b.sawDead {
		if live[i] && !at.IsZero() {
			s.seeDead++
		}
	}
	for _, ip := range ips {
		switch b.count[ip] {
		case 0:
			s.unanswered++
		case 1:
			s.settled++
		}
	}
	for _, n := range b.count {
		s.maxAnswers = max(s.maxAnswers, n)
	}
	return s
}

// outcome is what a round measured, from t0, the kill.
type outcome struct {
	firstSeen, converged, owned time.Duration
	max, doubles, flaps         int
}

func (b *board) outcome(t0 time.Time, live []bool) outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	o := outcome{max: b.max, doubles: b.doubles, flaps: b.flaps, owned: b.settledAt.Sub(t0)}
	for i, at := range b.sawDead {
		if !live[i] {
			continue
		}
		d := at.Sub(t0)
		if o.firstSeen == 0 || d < o.firstSeen {
			o.firstSeen = d
		}
		o.converged = max(o.converged, d)
	}
	return o
}

func (b *board) doublesTotal() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.doublesEver
}

// reset forgets the claims' history (not the claims): what happened while
// the cluster formed.
func (b *board) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.doubles, b.doublesEver, b.flaps = 0, 0, 0
}
