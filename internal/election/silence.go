package election

import (
	"slices"
	"time"
)

// Silence is how long a speaker has been dead in memberlist while its
// Lease showed no new renewal, on this speaker's clock: Renewed is the
// renewal time its Lease shows, Since when this speaker first saw it so.
type Silence struct {
	Renewed time.Time
	Since   time.Time
}

// Silences returns the silences at now, from the last ones: a speaker that
// is alive in memberlist, or whose Lease shows a renewal other than the one
// seen, is not silent; one dead in memberlist whose Lease shows the same
// renewal stays silent since it was first seen so.
//
// Only this speaker's clock is read: the Lease's renewal time is compared
// for equality, never with a time of this node, so clocks that differ
// across nodes change nothing.
func Silences(prev map[string]Silence, leases []SpeakerLease, alive []string, now time.Time) map[string]Silence {
	out := map[string]Silence{}
	for _, l := range leases {
		if slices.Contains(alive, l.Node) {
			continue
		}
		if p, ok := prev[l.Node]; ok && p.Renewed.Equal(l.Renewed) {
			out[l.Node] = p
			continue
		}
		out[l.Node] = Silence{Renewed: l.Renewed, Since: now}
	}
	return out
}

// Silent returns the speakers, sorted, whose silence had lasted at least
// after at ownRenew, this speaker's last renewal of its own Lease. A live
// speaker renews every renewal interval whether or not memberlist reaches
// it, so with after above that interval plus the slowest renewal, one
// that stays silent so long is dead and counts as gone for quorum (Known)
// without waiting for its Lease to expire. Judged at ownRenew for the
// reason Known is: a speaker cut off from the apiserver sees no renewals,
// and must not conclude from that that the others are gone.
func Silent(s map[string]Silence, ownRenew time.Time, after time.Duration) []string {
	var out []string
	for node, x := range s {
		if !ownRenew.IsZero() && !ownRenew.Before(x.Since.Add(after)) {
			out = append(out, node)
		}
	}
	slices.Sort(out)
	return out
}

// SilentDue returns the earliest time after ownRenew at which a silence
// will have lasted after (zero if none will): a renewal of this speaker's
// own Lease then lets Silent judge it.
func SilentDue(s map[string]Silence, ownRenew time.Time, after time.Duration) time.Time {
	var due time.Time
	for _, x := range s {
		at := x.Since.Add(after)
		if !ownRenew.IsZero() && !ownRenew.Before(at) {
			continue
		}
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	return due
}
