package speaker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat"
	"github.com/heraldlb/herald/internal/plan"
)

// Metrics are the speaker shell's collectors; layer2 and liveness have their
// own.
type Metrics struct {
	// Announced is the number of IPs this node announces, by mode.
	Announced *prometheus.GaugeVec
	// Services is 1 for each (service, protocol, node, ip) this node
	// announces: MetalLB's metallb_speaker_announced, which has no Herald
	// twin. Like MetalLB's, it is the desired state handed to the
	// announcers, not proof that routers or clients have converged.
	Services *prometheus.GaugeVec
	// Quorum is 1 while this speaker may claim IPs.
	Quorum prometheus.Gauge
	// Speakers counts the speakers this one sees, by state: alive (in
	// memberlist) and known (alive, or with a live Lease).
	Speakers *prometheus.GaugeVec
	// Syncs counts plans computed and applied, by result.
	Syncs *prometheus.CounterVec
	// SyncSeconds is how long one plan takes, from snapshot to applied.
	SyncSeconds prometheus.Histogram
	// TakeoverSeconds is, for each IP this node takes over from another
	// node in Layer 2 mode, the time from the earliest change that woke
	// the plan which moved it (a memberlist change, a Node, Lease,
	// EndpointSlice or configuration change seen by the informers, or the
	// plan's own timer, such as a Lease that expired) to the return of the
	// Announcer's Set, which has sent the first gratuitous round. It starts
	// when this speaker learned of the change, not when the old owner
	// failed: memberlist's failure detection comes before it.
	TakeoverSeconds prometheus.Histogram
	// AnnounceSeconds is, by protocol, for each (Service, IP) this node
	// starts announcing after that Service changed, the time from the
	// latest change of the Service the informer delivered to the
	// announcement: for layer2, the return of the Announcer's Set (first
	// gratuitous round sent); for bgp, the hand-over of the routes to the
	// BGP applier, which updates the sessions right after.
	AnnounceSeconds *prometheus.HistogramVec
	// ConfigLoaded is 1 once the speaker has planned from a configuration.
	ConfigLoaded prometheus.Gauge
	// ConfigStale is 1 while some configuration object is not in force as
	// written (it has a problem, see config.Announce.Problems).
	ConfigStale prometheus.Gauge
	// NodeWrites counts the writes of this node's HeraldNode that the
	// apiserver took: at most one per RecordInterval under churn, none
	// while nothing changes.
	NodeWrites prometheus.Counter

	// Limits are the gauges of toAdvertise limits.
	Limits limitMetrics

	// services are the label values Services has, so that set can delete
	// those that went. Only the speaker's loop touches it.
	services map[[4]string]bool
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Announced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "announced_ips",
			Help: "IPs this node announces, by mode.",
		}, []string{"mode"}),
		Services: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "metallb", Subsystem: "speaker", Name: "announced",
			Help: "Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.",
		}, []string{"service", "protocol", "node", "ip"}),
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
		TakeoverSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "takeover_seconds",
			Help:    "For each IP this node takes over from another node (Layer 2), from the earliest change this speaker saw that moved it to the first gratuitous round sent.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		AnnounceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "announce_latency_seconds",
			Help:    "For each Service IP this node starts announcing after the Service changed, from the change the informer delivered to the announcement, by protocol.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"protocol"}),
		ConfigLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "config_loaded",
			Help: "1 once this speaker has planned from a configuration.",
		}),
		ConfigStale: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "config_stale",
			Help: "1 while a configuration object is not in force as written (see the objects' conditions).",
		}),
		NodeWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "node_status_writes_total",
			Help: "Writes of this node's HeraldNode status that the apiserver took.",
		}),
		Limits:   newLimitMetrics(),
		services: map[[4]string]bool{},
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	cs := []prometheus.Collector{m.Announced, m.Services, m.Quorum, m.Speakers, m.Syncs, m.SyncSeconds, m.TakeoverSeconds, m.AnnounceSeconds, m.ConfigLoaded, m.ConfigStale, m.NodeWrites}
	for _, c := range append(cs, m.Limits.collectors()...) {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register speaker metrics: %w", err)
		}
	}
	return nil
}

// ConfigViews are MetalLB's k8s_client gauges read from ConfigLoaded and
// ConfigStale. The controller exports the same names, so Register leaves
// them to the speaker's main: a registry that holds both components'
// collectors, as the rules' tests build, could not take both.
func (m *Metrics) ConfigViews() []*metallbcompat.View {
	return metallbcompat.ConfigViews(m.ConfigLoaded, m.ConfigStale)
}

// setAnnounced sets the gauges of what node announces, from the one place
// both are read: the Layer 2 entries it wins and the BGP routes it
// advertises. MetalLB's protocol values are "layer2" and "bgp". It returns
// the series added.
func (m *Metrics) setAnnounced(node string, mine []plan.L2, adv []plan.Advertised) (added [][4]string) {
	m.Announced.WithLabelValues("layer2").Set(float64(len(mine)))
	m.Announced.WithLabelValues("bgp").Set(float64(len(adv)))
	now := map[[4]string]bool{}
	for _, e := range mine {
		for _, svc := range e.Services {
			now[[4]string{svc, "layer2", node, e.IP.String()}] = true
		}
	}
	for _, a := range adv {
		for _, svc := range a.Services {
			now[[4]string{svc, "bgp", node, a.IP.String()}] = true
		}
	}
	for lv := range m.services {
		if !now[lv] {
			m.Services.DeleteLabelValues(lv[:]...)
		}
	}
	for lv := range now {
		m.Services.WithLabelValues(lv[:]...).Set(1)
		if !m.services[lv] {
			added = append(added, lv)
		}
	}
	m.services = now
	return added
}
