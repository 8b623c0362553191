package election

import (
	"slices"
	"time"
)

// Silence is what this speaker last heard of another through its Lease:
// the renewal time the Lease shows, and when this speaker first saw it
// show that one, on its own clock.
type Silence struct {
	Renewed time.Time
	Since   time.Time
}

// Silences returns what this speaker has heard at now, from what it had
// heard before: a Lease that shows a renewal other than the one seen was
// renewed, seen now.
//
// Only this speaker's clock is read: the Lease's renewal time is compared
// for equality, never with a time of this node, so clocks that differ
// across nodes change nothing. A watch that delivers late makes Since
// later, never earlier.
func Silences(prev map[string]Silence, leases []SpeakerLease, now time.Time) map[string]Silence {
	out := make(map[string]Silence, len(leases))
	for _, l := range leases {
		if p, ok := prev[l.Node]; ok && p.Renewed.Equal(l.Renewed) {
			out[l.Node] = p
			continue
		}
		out[l.Node] = Silence{Renewed: l.Renewed, Since: now}
	}
	return out
}

// Silent returns the speakers, sorted, dead in memberlist (not in alive)
// whose Leases had shown no new renewal for at least after at ownRenew,
// this speaker's last renewal of its own Lease. A live speaker renews
// every renewal interval whether or not memberlist reaches it, so with
// after above that interval plus the slowest renewal, one that stays
// silent so long is dead and counts as gone for quorum (Known) without
// waiting for its Lease to expire. Judged at ownRenew for the reason Known
// is: a speaker cut off from the apiserver sees no renewals, and must not
// conclude from that that the others are gone.
func Silent(s map[string]Silence, alive []string, ownRenew time.Time, after time.Duration) []string {
	var out []string
	for node, x := range s {
		if !ownRenew.IsZero() && !ownRenew.Before(x.Since.Add(after)) && !slices.Contains(alive, node) {
			out = append(out, node)
		}
	}
	slices.Sort(out)
	return out
}

// SilentDue returns the earliest time after ownRenew at which a speaker
// dead in memberlist will have been silent for after (zero if none will):
// a renewal of this speaker's own Lease then lets Silent judge it.
func SilentDue(s map[string]Silence, alive []string, ownRenew time.Time, after time.Duration) time.Time {
	var due time.Time
	for node, x := range s {
		at := x.Since.Add(after)
		if slices.Contains(alive, node) || !ownRenew.IsZero() && !ownRenew.Before(at) {
			continue
		}
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	return due
}
