package speaker

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the speaker shell's collectors; layer2 and liveness have their
// own.
type Metrics struct {
	// Announced is the number of IPs this node announces, by mode.
	Announced *prometheus.GaugeVec
	// Quorum is 1 while this speaker may claim IPs.
	Quorum prometheus.Gauge
	// Speakers counts the speakers this one sees, by state: alive (in
	// memberlist) and known (alive, or with a live Lease).
	Speakers *prometheus.GaugeVec
	// Syncs counts plans computed and applied, by result.
	Syncs *prometheus.CounterVec
	// SyncSeconds is how long one plan takes, from snapshot to applied.
	SyncSeconds prometheus.Histogram
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Announced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "announced_ips",
			Help: "IPs this node announces, by mode.",
		}, []string{"mode"}),
		Quorum: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "quorum",
			Help: "1 while this speaker sees a majority of the known speakers alive (or holds the tie-breaker), and so may announce.",
		}),
		Speakers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "speakers",
			Help: "Speakers this one sees: alive in memberlist, and known (alive or with a live Lease).",
		}, []string{"state"}),
		Syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "syncs_total",
			Help: "Plans computed and applied, by result (ok, error).",
		}, []string{"result"}),
		SyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "sync_duration_seconds",
			Help:    "How long one plan takes, from reading the snapshot to handing the result to the announcers.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Announced, m.Quorum, m.Speakers, m.Syncs, m.SyncSeconds} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
