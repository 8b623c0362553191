package speaker

import (
	"net/http"
	"slices"
	"sync"

	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/plan"
)

// probeState is what the loop hands the probes, under its own lock: the
// probes run on the health server's goroutines.
type probeState struct {
	mu sync.Mutex
	h  Health
}

// beat stamps a round of the main loop.
func (s *Speaker) beat() {
	s.probe.mu.Lock()
	s.probe.h.Beat, s.probe.h.Tick = s.opts.Clock.Now(), s.opts.RenewInterval
	s.probe.mu.Unlock()
}

// planned records what a plan wants: the other speakers with Leases, the
// memberlist members besides this one, the interfaces it announces on and
// the BGP sessions it asks for (opened or refused).
func (s *Speaker) planned(peers, members int, mine []plan.L2, b plan.BGP) {
	var wanted []string
	for _, e := range mine {
		wanted = append(wanted, e.Interfaces...)
	}
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	s.probe.h.Peers, s.probe.h.Members, s.probe.h.Wanted = peers, members, wanted
	s.probe.h.BGPWanted = len(b.Sessions) + len(b.Problems)
}

func (s *Speaker) health() Health {
	s.probe.mu.Lock()
	h := s.probe.h
	s.probe.mu.Unlock()
	h.Listening = interfacesOf(s.deps.Announcer.Applied())
	h.BGPConfigured = len(s.deps.Router.Status())
	return h
}

func interfacesOf(as []layer2.Announcement) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Interface)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// LiveCheck is the liveness probe (healthz.Checker): it fails when the main
// loop is wedged.
func (s *Speaker) LiveCheck(*http.Request) error { return Live(s.health(), s.opts.Clock.Now()) }

// ReadyCheck is the readiness probe: it fails while the speaker cannot
// announce, saying which check failed and why.
func (s *Speaker) ReadyCheck(*http.Request) error { return Ready(s.health()) }
