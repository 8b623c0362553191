package bgp

import (
	"net/netip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat"
)

// Metrics holds the BGP speaker's collectors. The peer label is the
// session's name (the BGPPeer's). A session's series exist while it is
// open.
type Metrics struct {
	// SessionUp is 1 while the session is established, else 0.
	SessionUp *prometheus.GaugeVec
	// PrefixesAdvertised is the number of prefixes advertised on the
	// established session.
	PrefixesAdvertised *prometheus.GaugeVec
	// UpdatesSent counts the UPDATE messages sent, End-of-RIB markers
	// included.
	UpdatesSent *prometheus.CounterVec

	// addrs maps an open session's name to its peer's address:port,
	// MetalLB's peer label, for the MetalLB views.
	addrs sync.Map
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		SessionUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "bgp", Name: "session_up",
			Help: "1 while the BGP session with the peer is established, else 0.",
		}, []string{"peer"}),
		PrefixesAdvertised: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "bgp", Name: "prefixes_advertised",
			Help: "Prefixes advertised to the peer on the established session.",
		}, []string{"peer"}),
		UpdatesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "bgp", Name: "updates_sent_total",
			Help: "BGP UPDATE messages sent to the peer, End-of-RIB markers included.",
		}, []string{"peer"}),
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.SessionUp, m.PrefixesAdvertised, m.UpdatesSent} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return metallbcompat.Register(reg, m.MetalLB()...)
}

// MetalLB returns the views of these collectors under the names of
// MetalLB's native BGP speaker (internal/bgp/native/stats.go), whose peer
// label is the peer's address:port rather than the BGPPeer's name.
func (m *Metrics) MetalLB() []*metallbcompat.View {
	peer := []string{"peer"}
	rewrite := func(_, name string) (string, bool) {
		a, ok := m.addrs.Load(name)
		if !ok {
			return "", false
		}
		return a.(string), true
	}
	return []*metallbcompat.View{
		{Name: "metallb_bgp_session_up", Help: "BGP session state (1 is up, 0 is down)", Type: prometheus.GaugeValue, Labels: peer, From: m.SessionUp, Rewrite: rewrite},
		{Name: "metallb_bgp_announced_prefixes_total", Help: "Number of prefixes currently being advertised on the BGP session", Type: prometheus.GaugeValue, Labels: peer, From: m.PrefixesAdvertised, Rewrite: rewrite},
		{Name: "metallb_bgp_updates_total", Help: "Number of BGP UPDATE messages sent", Type: prometheus.CounterValue, Labels: peer, From: m.UpdatesSent, Rewrite: rewrite},
	}
}

// opened records the address of a session whose series are about to be
// made.
func (m *Metrics) opened(s Session) {
	port := s.PeerPort
	if port == 0 {
		port = 179
	}
	m.addrs.Store(s.Name, netip.AddrPortFrom(s.PeerAddress, port).String())
}

// forget drops the series of a session that was closed.
func (m *Metrics) forget(peer string) {
	m.addrs.Delete(peer)
	m.SessionUp.DeleteLabelValues(peer)
	m.PrefixesAdvertised.DeleteLabelValues(peer)
	m.UpdatesSent.DeleteLabelValues(peer)
}
