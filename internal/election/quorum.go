package election

import (
	"slices"
	"time"
)

// SpeakerLease is what a speaker's per-node Lease says: that node's speaker
// renewed it at Renewed and promised to renew again within Duration.
type SpeakerLease struct {
	Node     string
	Renewed  time.Time
	Duration time.Duration
}

// Known returns the speakers that count for quorum, sorted: self, every
// alive member, and every speaker whose Lease had not expired when this
// speaker last renewed its own (ownRenew).
//
// Expiry is judged against ownRenew rather than the current time on purpose:
// a speaker cut off from the apiserver cannot renew, so its view of the
// others' Leases freezes and nobody leaves its known set. It would otherwise
// see every Lease expire, conclude it is alone, and claim every IP. A zero
// ownRenew (never renewed yet) expires nothing.
func Known(self string, leases []SpeakerLease, alive []string, ownRenew time.Time) []string {
	out := []string{self}
	out = append(out, alive...)
	for _, l := range leases {
		if !l.ExpiredBy(ownRenew) {
			out = append(out, l.Node)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ExpiredBy reports whether the Lease had expired at ownRenew, this
// speaker's last renewal of its own Lease (see Known); a zero ownRenew
// expires nothing.
func (l SpeakerLease) ExpiredBy(ownRenew time.Time) bool {
	return !ownRenew.IsZero() && l.Renewed.Add(l.Duration).Before(ownRenew)
}

// ExpiresBetween reports whether one of leases, unexpired at this speaker's
// renewal from, has expired at its next renewal to: only then can Known
// lose a speaker to expiry, so only then must the plan be made again.
func ExpiresBetween(leases []SpeakerLease, from, to time.Time) bool {
	for _, l := range leases {
		if !l.ExpiredBy(from) && l.ExpiredBy(to) {
			return true
		}
	}
	return false
}

// Verdict says whether a speaker may claim IPs.
type Verdict struct {
	// Claim: the speaker may announce the IPs it wins.
	Claim bool
	// Tie: exactly half of the known speakers are alive; Claim then depends
	// on the tie-breaker Lease.
	Tie bool
	// Alive and Known are the counts the verdict rests on, for logs and
	// metrics.
	Alive, Known int
}

// TieLease is the tie-breaker Lease as a speaker sees it: its holder, the
// side (alive speakers) the holder recorded, its duration, its version (the
// object's resourceVersion), and when this speaker first saw that version,
// on its own clock. A zero TieLease is free.
//
// The Lease's renewTime is deliberately not here: the holder wrote it with
// its own clock, and comparing it with another node's clock lets a few
// seconds of skew make both sides of a tie answer. Every judgement below
// measures time since Seen instead, so it rests only on this speaker's own
// observations.
type TieLease struct {
	Holder   string
	Side     []string
	Version  string
	Duration time.Duration
	// Seen is when this speaker first saw Version; Inherited says it first
	// saw it when it started, so Seen says nothing about when it was
	// written.
	Seen      time.Time
	Inherited bool
}

// ObserveTie returns cur, the Lease just read, stamped with when this
// speaker first saw its version: prev's stamp while the version is the one
// prev saw, else now. prev is nil before the first observation; what is
// seen then is inherited from before this speaker started.
func ObserveTie(prev *TieLease, cur TieLease, now time.Time) TieLease {
	switch {
	case prev == nil:
		cur.Seen, cur.Inherited = now, true
	case prev.Version == cur.Version:
		cur.Seen, cur.Inherited = prev.Seen, prev.Inherited
	default:
		cur.Seen, cur.Inherited = now, false
	}
	return cur
}

// fresh reports whether the holder's claim stands at now, for self. A hold
// of its own that self inherited does not stand: self cannot tell how old
// it is, and must renew it first.
func (t TieLease) fresh(self string, now time.Time) bool {
	if t.Holder == "" || (t.Holder == self && t.Inherited) {
		return false
	}
	return now.Before(t.Seen.Add(t.Duration))
}

// takeable reports whether another speaker may take the Lease at now. It
// waits a quarter of the duration past expiry as this speaker measures it,
// so that the holder's side, whose caches may have seen the same version a
// little later, has stopped claiming first. That quarter bounds how far
// apart two speakers' caches may see one write; no clock is compared
// across nodes.
func (t TieLease) takeable(now time.Time) bool {
	return t.Holder == "" || !now.Before(t.Seen.Add(t.Duration+t.Duration/4))
}

// Decide returns whether self may claim IPs, given the known speakers, the
// alive members it sees (itself included or not), and the tie-breaker Lease.
// With more than half of the known speakers alive it may; with fewer it may
// not; with exactly half it may only while the tie-breaker is fresh and held
// by a speaker on its side (itself, or one it sees alive).
func Decide(self string, known, alive []string, tie TieLease, now time.Time) Verdict {
	k := map[string]bool{self: true}
	for _, n := range known {
		k[n] = true
	}
	a := map[string]bool{self: true}
	for _, n := range alive {
		if k[n] {
			a[n] = true
		}
	}
	v := Verdict{Alive: len(a), Known: len(k)}
	switch {
	case 2*v.Alive > v.Known:
		v.Claim = true
	case 2*v.Alive == v.Known:
		v.Tie = true
		v.Claim = tie.fresh(self, now) && a[tie.Holder]
	}
	return v
}

// Healthy reports whether a speaker with quorum may claim, given its
// memberlist health score: it may not while the score is at limit or
// above. A speaker cut off from the others sees its score rise within a
// probe or two, while memberlist still lists the others as alive, since
// declaring them dead takes longer without anyone to confirm; the majority
// takes its IPs over about then. Without this rule both would answer until
// the cut-off speaker declares the others dead.
//
// The rule needs three or more known speakers: with one or two, a failed
// probe has no one to vouch for the prober, so every failed probe counts
// against it, and a lone survivor's score would never fall. The tie-breaker
// Lease decides those cases instead.
func Healthy(v Verdict, score, limit int) bool {
	return v.Tie || v.Known < 3 || score < limit
}

// TieAction is what a speaker must do with the tie-breaker Lease.
type TieAction int

const (
	// TieNone: leave the Lease alone.
	TieNone TieAction = iota
	// TieAcquire: write self as holder, with the alive side, if the Lease
	// is still as seen (an optimistic update).
	TieAcquire
	// TieRenew: refresh self's hold and the recorded side.
	TieRenew
	// TieRelease: clear the holder; the tie is over.
	TieRelease
)

func (a TieAction) String() string {
	return [...]string{"none", "acquire", "renew", "release"}[a]
}

// NextTieAction returns what self must do with the tie-breaker Lease: in a
// tie, take it when it is free or long expired, and renew it every third of
// its duration while holding it (at once if the hold is inherited); out of
// a tie, release it if held. A speaker
// never takes it from a fresh holder. The side written with each acquire or
// renew is for people reading the Lease; the verdict does not depend on it.
func NextTieAction(self string, v Verdict, tie TieLease, now time.Time) TieAction {
	mine := tie.Holder == self
	switch {
	case !v.Tie && mine:
		return TieRelease
	case !v.Tie:
		return TieNone
	case mine && (tie.Inherited || !now.Before(tie.Seen.Add(tie.Duration/3))):
		return TieRenew
	case !mine && tie.takeable(now):
		return TieAcquire
	}
	return TieNone
}
