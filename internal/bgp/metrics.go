package bgp

import "github.com/prometheus/client_golang/prometheus"

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
	return nil
}

// forget drops the series of a session that was closed.
func (m *Metrics) forget(peer string) {
	m.SessionUp.DeleteLabelValues(peer)
	m.PrefixesAdvertised.DeleteLabelValues(peer)
	m.UpdatesSent.DeleteLabelValues(peer)
}
