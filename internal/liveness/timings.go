package liveness

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// Timings are memberlist's knobs that decide how fast a dead speaker is
// detected, plus how often we retry joining peers that are not members.
// A zero field takes DefaultTimings' value; a negative one is an error.
//
// The package doc works out the detection time they give and how it grows
// with the number of speakers.
type Timings struct {
	// ProbeInterval is how often each speaker probes one other speaker,
	// round-robin over a shuffled list. A failed probe takes a whole
	// interval (direct ping, then indirect pings and a TCP ping, all bounded
	// by the interval), so detection is a few intervals plus the suspicion
	// timeout.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct UDP ping waits for its ack before
	// the indirect pings start. It must be shorter than ProbeInterval; it is
	// not the deadline of the probe as a whole.
	ProbeTimeout time.Duration
	// GossipInterval is how often queued messages (suspect, dead, alive,
	// meta updates) are sent to GossipNodes random speakers. It bounds how
	// fast news spreads and how fast a suspect speaker can refute.
	GossipInterval time.Duration
	// PushPullInterval is how often a full state exchange over TCP runs
	// with one random speaker: anti-entropy for anything gossip lost.
	PushPullInterval time.Duration
	// TCPTimeout bounds a TCP connection attempt and a state exchange. It
	// also bounds how long one rejoin attempt to an unreachable peer can
	// hold that peer's slot, so it is part of the worst rejoin time.
	TCPTimeout time.Duration
	// RejoinInterval is how often Run tries to join each peer address that
	// is not an alive member (memberlist itself never re-contacts speakers
	// it declared dead, so this is what heals a partition).
	RejoinInterval time.Duration
	// GossipToTheDeadTime is how long gossip still goes to a speaker after
	// it was declared dead, so that it can refute; after that memberlist
	// forgets it (until a rejoin or its own join brings it back).
	GossipToTheDeadTime time.Duration

	// SuspicionMult sets the suspicion timeout: a suspect speaker that does
	// not refute within SuspicionMult × max(1, log10(N)) × ProbeInterval is
	// declared dead. It is also what k, the number of independent
	// confirmations that shorten the timeout, derives from: k = SuspicionMult
	// − 2, or 0 when fewer than k other speakers could confirm.
	SuspicionMult int
	// SuspicionMaxTimeoutMult sets where the suspicion timer starts when
	// confirmations are expected (k > 0): at SuspicionMaxTimeoutMult times
	// the suspicion timeout, shrinking to the timeout itself as k other
	// speakers confirm. It protects against one confused prober.
	SuspicionMaxTimeoutMult int
	// IndirectChecks is how many other speakers are asked to ping a speaker
	// whose direct ping timed out: one slow path alone does not make it
	// suspect.
	IndirectChecks int
	// RetransmitMult sets how many times each gossiped message is sent:
	// RetransmitMult × ceil(log10(N+1)).
	RetransmitMult int
	// GossipNodes is how many random speakers each gossip round goes to.
	GossipNodes int
	// AwarenessMaxMultiplier caps how far a speaker that notices it is
	// slow (its probes fail without the others' nacks) stretches its own
	// probe interval, so a starved speaker accuses nobody. 1 turns this off.
	AwarenessMaxMultiplier int
}

// DefaultTimings are tuned for a LAN: a speaker that dies is declared dead by
// the others well under a second (target: p50 ≤ 0.6 s, max ≤ 1 s for 3 nodes),
// without false positives on a loaded 2-core machine. Measured with three
// speakers on a loaded 2-core VM: p50 549 ms, max 645 ms over 80 kills;
// rejoin after a healed partition p50 197 ms, max 654 ms. The package doc derives these and
// says how they grow with the number of speakers (log10 N in the suspicion
// timeout: about 0.8–1 s at 100 speakers).
func DefaultTimings() Timings {
	return Timings{
		// Ten probes a second: detection is about 1.5 intervals plus the
		// suspicion timeout, and a probe is a few hundred bytes.
		ProbeInterval: 100 * time.Millisecond,
		// A LAN answers in well under a millisecond; the rest is room for
		// a busy scheduler before the indirect and TCP pings start. The
		// probe still has until the end of the interval to succeed.
		ProbeTimeout: 50 * time.Millisecond,
		// News (a suspicion, a refutation, a verdict, new meta) reaches a
		// random speaker within 50 ms: a suspect has six gossip rounds in
		// the 300 ms suspicion timeout to refute.
		GossipInterval: 50 * time.Millisecond,
		// Anti-entropy only; gossip carries the news. Cheap at our sizes.
		PushPullInterval: 10 * time.Second,
		// A LAN state exchange takes milliseconds; 500 ms bounds how long
		// an attempt to an unreachable peer holds that peer's rejoin slot,
		// so a heal is seen within TCPTimeout + RejoinInterval at worst.
		TCPTimeout: 500 * time.Millisecond,
		// Five rejoin rounds a second: one dial per missing peer and round.
		RejoinInterval: 200 * time.Millisecond,
		// Long enough that every old message about a dead speaker has died
		// out before it is forgotten (memberlist could otherwise take a
		// late one as news that it is alive), short enough not to keep
		// gossiping to dead speakers for memberlist's default 30 s.
		GossipToTheDeadTime: 5 * time.Second,
		// Timeout 3 × 100 ms = 300 ms for N ≤ 10. It also makes k = 1: the
		// timer starts at 900 ms and drops to 300 ms once another speaker
		// confirms, so with three speakers the two survivors confirm each
		// other, while a lone confused prober accuses only after 900 ms.
		// SuspicionMult 4 would make k = 2, more than three speakers can
		// give: memberlist would then wait a fixed 400 ms, with no slower
		// path for a lone prober.
		SuspicionMult: 3,
		// See SuspicionMult: 900 ms for an unconfirmed suspicion.
		SuspicionMaxTimeoutMult: 3,
		// memberlist's default: as many other speakers as can help.
		IndirectChecks: 3,
		// memberlist's default: 4 sends of each message up to 9 speakers,
		// 8 up to 99.
		RetransmitMult: 4,
		// memberlist's default.
		GossipNodes: 3,
		// A speaker whose probes keep failing without the others' nacks
		// (the cut-off or starved one) slows its probing down to 4 × 100
		// ms instead of memberlist's 8 ×, so even it decides within about
		// 2 s.
		AwarenessMaxMultiplier: 4,
	}
}

// withDefaults returns t with every zero field taken from DefaultTimings,
// or an error if a field is negative or the result is inconsistent.
func (t Timings) withDefaults() (Timings, error) {
	d := DefaultTimings()
	if err := errors.Join(
		fill("ProbeInterval", &t.ProbeInterval, d.ProbeInterval),
		fill("ProbeTimeout", &t.ProbeTimeout, d.ProbeTimeout),
		fill("GossipInterval", &t.GossipInterval, d.GossipInterval),
		fill("PushPullInterval", &t.PushPullInterval, d.PushPullInterval),
		fill("TCPTimeout", &t.TCPTimeout, d.TCPTimeout),
		fill("RejoinInterval", &t.RejoinInterval, d.RejoinInterval),
		fill("GossipToTheDeadTime", &t.GossipToTheDeadTime, d.GossipToTheDeadTime),
		fill("SuspicionMult", &t.SuspicionMult, d.SuspicionMult),
		fill("SuspicionMaxTimeoutMult", &t.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult),
		fill("IndirectChecks", &t.IndirectChecks, d.IndirectChecks),
		fill("RetransmitMult", &t.RetransmitMult, d.RetransmitMult),
		fill("GossipNodes", &t.GossipNodes, d.GossipNodes),
		fill("AwarenessMaxMultiplier", &t.AwarenessMaxMultiplier, d.AwarenessMaxMultiplier),
	); err != nil {
		return Timings{}, err
	}
	if t.ProbeTimeout >= t.ProbeInterval {
		return Timings{}, fmt.Errorf("ProbeTimeout %v must be shorter than ProbeInterval %v: %w", t.ProbeTimeout, t.ProbeInterval, ErrInvalidOptions)
	}
	return t, nil
}

// fill replaces a zero *v with def, and rejects a negative one.
func fill[T time.Duration | int](name string, v *T, def T) error {
	switch {
	case *v < 0:
		return fmt.Errorf("timing %s is negative (%v): %w", name, *v, ErrInvalidOptions)
	case *v == 0:
		*v = def
	}
	return nil
}

// apply copies t onto c.
func (t Timings) apply(c *memberlist.Config) {
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.GossipInterval = t.GossipInterval
	c.PushPullInterval = t.PushPullInterval
	c.TCPTimeout = t.TCPTimeout
	c.GossipToTheDeadTime = t.GossipToTheDeadTime
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.IndirectChecks = t.IndirectChecks
	c.RetransmitMult = t.RetransmitMult
	c.GossipNodes = t.GossipNodes
	c.AwarenessMaxMultiplier = t.AwarenessMaxMultiplier
}

// sizedFrom is the cluster size above which TimingsFor departs from
// DefaultTimings: up to it, the defaults fail a speaker over within a
// second (docs/benchmarks.md, the gossip simulation).
const sizedFrom = 100

// TimingsFor returns the timings for a cluster of n speakers: the defaults
// up to sizedFrom, and above it a probe interval (and probe timeout)
// shortened by log10(sizedFrom)/log10(n). memberlist's suspicion timeout
// grows with log10(n) × ProbeInterval, so this holds it at what it is for
// sizedFrom speakers (600 ms), and with it the failover time, at the cost
// of probes (CPU and bytes) growing by the same factor: 1.35× at 500.
func TimingsFor(n int) Timings {
	t := DefaultTimings()
	if n <= sizedFrom {
		return t
	}
	f := math.Log10(sizedFrom) / math.Log10(float64(n))
	t.ProbeInterval = time.Duration(float64(t.ProbeInterval) * f).Round(time.Millisecond)
	t.ProbeTimeout = time.Duration(float64(t.ProbeTimeout) * f).Round(time.Millisecond)
	return t
}
