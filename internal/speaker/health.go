package speaker

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Health is what the probes judge, as the main loop last saw it.
type Health struct {
	// Beat is when the main loop last went round; Tick the longest it
	// waits between rounds when nothing happens (its renewal interval).
	Beat time.Time
	Tick time.Duration
	// Peers are the other speakers with an unexpired Lease; Members the
	// memberlist members other than this speaker.
	Peers, Members int
	// Listening are the interfaces Layer 2 answers on; Wanted those the
	// plan announces on.
	Listening, Wanted []string
	// BGPWanted is how many BGPPeers select this node, BGPConfigured how
	// many sessions the router has.
	BGPWanted, BGPConfigured int
}

// wedgedAfter is how many ticks without a round of the main loop make the
// speaker not live: a loop that is merely busy comes round within one.
const wedgedAfter = 3

// Live fails when the main loop has not gone round for wedgedAfter ticks:
// a wedged loop renews no Lease and answers no failover.
func Live(h Health, now time.Time) error {
	if h.Beat.IsZero() {
		return nil // not started: readiness says so
	}
	if age := now.Sub(h.Beat); age > wedgedAfter*h.Tick {
		return fmt.Errorf("main loop: last round %v ago, more than %d times its %v tick", age.Round(time.Millisecond), wedgedAfter, h.Tick)
	}
	return nil
}

// Ready fails, naming each check and why, while the speaker cannot
// announce: memberlist not joined although other speakers have Leases,
// an interface the plan announces on without its listener, or fewer BGP
// sessions than BGPPeers select this node.
func Ready(h Health) error {
	var errs []error
	if h.Beat.IsZero() {
		errs = append(errs, errors.New("main loop: no plan made yet"))
	}
	if h.Peers > 0 && h.Members == 0 {
		errs = append(errs, fmt.Errorf("memberlist: not joined, %d other speakers have Leases", h.Peers))
	}
	var closed []string
	for _, w := range h.Wanted {
		if !slices.Contains(h.Listening, w) {
			closed = append(closed, w)
		}
	}
	if len(closed) > 0 {
		slices.Sort(closed)
		errs = append(errs, fmt.Errorf("layer2: no ARP/NDP listener open on %s", strings.Join(slices.Compact(closed), ", ")))
	}
	if h.BGPConfigured < h.BGPWanted {
		errs = append(errs, fmt.Errorf("bgp: %d of %d sessions for the BGPPeers selecting this node configured", h.BGPConfigured, h.BGPWanted))
	}
	return errors.Join(errs...)
}
