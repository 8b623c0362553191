package liveness

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Kinds of membership change, the values of the kind label.
const (
	changeJoin   = "join"   // a speaker became alive: new, back after a partition, or refuting its death
	changeLeave  = "leave"  // a speaker left or was declared dead (memberlist does not say which)
	changeUpdate = "update" // a speaker's meta changed
)

// Results of a rejoin attempt, the values of the result label.
const (
	joinOK    = "ok"
	joinError = "error"
)

// Metrics holds the collectors of one Liveness.
type Metrics struct {
	// Members is the number of speakers this one sees alive or suspect,
	// itself included.
	Members prometheus.Gauge
	// MemberChanges counts membership changes seen, by kind.
	MemberChanges *prometheus.CounterVec
	// JoinAttempts counts attempts to join a peer address that was not an
	// alive member, by result. Errors that keep coming mean a partition, a
	// stale peer address or a speaker with a different key.
	JoinAttempts *prometheus.CounterVec
	// Health is memberlist's local health score (see HealthScore).
	Health prometheus.Gauge
	// Keys is the number of gossip keys installed, the primary included:
	// during a rotation, it shows which speakers have applied a step that
	// adds or removes a key.
	Keys prometheus.Gauge
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Members: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "members",
			Help: "Speakers this speaker sees alive in memberlist, itself included.",
		}),
		MemberChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "member_changes_total",
			Help: "Memberlist membership changes seen, by kind (join, leave, update).",
		}, []string{"kind"}),
		JoinAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "member_join_attempts_total",
			Help: "Attempts to join a peer speaker that was not an alive member, by result (ok, error).",
		}, []string{"result"}),
		Health: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "health_score",
			Help: "Memberlist's local health score: 0 is healthy; it rises when this speaker's probes fail and the speakers asked to help do not answer either, which means the fault is likely on this side.",
		}),
		Keys: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "speaker", Name: "memberlist_keys",
			Help: "Gossip encryption keys this speaker has installed, the primary included.",
		}),
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Members, m.MemberChanges, m.JoinAttempts, m.Health, m.Keys} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register liveness metrics: %w", err)
		}
	}
	return nil
}
