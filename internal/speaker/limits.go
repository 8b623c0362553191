package speaker

import (
	"fmt"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/plan"
)

// limitMetrics are the gauges of the sessions with a toAdvertise limit.
// Their series exist while the session has a limit.
type limitMetrics struct {
	// Limit is the session's maxPrefixes; Wanted the routes it would
	// advertise without it; Withheld those it does not.
	Limit, Wanted, Withheld *prometheus.GaugeVec
	peers                   map[string]bool
}

func newLimitMetrics() limitMetrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "herald", Subsystem: "bgp", Name: name, Help: help}, []string{"peer"})
	}
	return limitMetrics{
		Limit:    gauge("prefixes_limit", "The BGPPeer's toAdvertise.maxPrefixes, for sessions that have one."),
		Wanted:   gauge("prefixes_wanted", "Routes this node would advertise to the peer without its toAdvertise.maxPrefixes."),
		Withheld: gauge("prefixes_withheld", "Routes not advertised to the peer because of its toAdvertise.maxPrefixes."),
		peers:    map[string]bool{},
	}
}

func (m *limitMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Limit, m.Wanted, m.Withheld}
}

// set makes the series those of limits, dropping a session's that has no
// limit any more. Only the speaker's loop calls it.
func (m *limitMetrics) set(limits map[string]plan.Limit) {
	for peer := range m.peers {
		if _, ok := limits[peer]; !ok {
			for _, g := range []*prometheus.GaugeVec{m.Limit, m.Wanted, m.Withheld} {
				g.DeleteLabelValues(peer)
			}
			delete(m.peers, peer)
		}
	}
	for peer, l := range limits {
		m.Limit.WithLabelValues(peer).Set(float64(l.Max))
		m.Wanted.WithLabelValues(peer).Set(float64(l.Wanted))
		m.Withheld.WithLabelValues(peer).Set(float64(l.Withheld()))
		m.peers[peer] = true
	}
}

// limitWarnings returns, sorted by session, a warning for each session
// that reaches plan.WarnAt of its limit or starts withholding routes since
// the last plan: once per crossing, not once per plan.
func limitWarnings(prev, next map[string]plan.Limit) []string {
	var out []string
	for _, peer := range slices.Sorted(maps.Keys(next)) {
		l, was := next[peer], prev[peer]
		switch {
		case l.Withheld() > 0 && was.Withheld() == 0:
			out = append(out, fmt.Sprintf("BGP: %d of the %d routes for peer %s are withheld: its toAdvertise.maxPrefixes is %d", l.Withheld(), l.Wanted, peer, l.Max))
		case l.Near() && l.Withheld() == 0 && !was.Near():
			out = append(out, fmt.Sprintf("BGP: peer %s gets %d routes, %d%% of its toAdvertise.maxPrefixes %d; routes beyond it will be withheld", peer, l.Wanted, l.Wanted*100/l.Max, l.Max))
		}
	}
	return out
}
