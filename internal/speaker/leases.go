package speaker

import (
	"net/netip"
	"slices"
	"time"

	"github.com/heraldlb/herald/internal/election"
)

// speakerLease is a speaker's Lease as the snapshot reads it: its holder
// and times, and the memberlist address it publishes (invalid when it
// publishes none or one that does not parse).
type speakerLease struct {
	election.SpeakerLease
	Addr netip.AddrPort
}

// unexpired keeps the Leases not expired at ownRenew (election.ExpiredBy:
// judged at this speaker's own last renewal, so a speaker cut off from the
// apiserver expires nobody), and the addresses they publish, sorted. An
// expired Lease, such as one left by a deleted node until the garbage
// collector removes it, is neither dialled nor counted as a known speaker.
// A speaker that is alive in memberlist is known anyway, whatever its Lease
// says.
func unexpired(leases []speakerLease, ownRenew time.Time) ([]election.SpeakerLease, []netip.AddrPort) {
	var live []election.SpeakerLease
	var peers []netip.AddrPort
	for _, l := range leases {
		if l.ExpiredBy(ownRenew) {
			continue
		}
		live = append(live, l.SpeakerLease)
		if l.Addr.IsValid() {
			peers = append(peers, l.Addr)
		}
	}
	slices.SortFunc(peers, netip.AddrPort.Compare)
	return live, peers
}
