// Package metrics defines the controller's Prometheus collectors.
//
// The collectors live in a struct that main constructs and registers with
// controller-runtime's registry, and passes to the reconcilers: there are no
// package globals.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Controller holds the controller's collectors.
type Controller struct {
	// AddressesInUse is the number of addresses assigned, by pool and family.
	AddressesInUse *prometheus.GaugeVec
	// AddressesTotal is the number of allocatable addresses, by pool and
	// family.
	AddressesTotal *prometheus.GaugeVec
	// AllocationErrors counts failed allocations by reason (ipam.Reason).
	AllocationErrors *prometheus.CounterVec
	// Reconciles counts finished reconciles by controller ("service",
	// "ipaddresspool") and result ("success", "error", "conflict" when a
	// write lost an optimistic lock to a newer version and is retried, or
	// "standby" when this replica did not lead, "fenced" when a write fell
	// outside the time the Lease surely held and is retried).
	Reconciles *prometheus.CounterVec
	// FencedWrites counts writes not sent, or cut short, because the
	// leader's Lease was overdue for renewal: a leader that was paused and
	// resumed. Each one is a write that could have landed on top of the
	// next leader's.
	FencedWrites prometheus.Counter
	// Leader is 1 while this replica leads and allocates, else 0.
	Leader prometheus.Gauge
	// LeaderTerms counts the terms this replica has led.
	LeaderTerms prometheus.Counter
	// CatchUpPending is, by kind ("Service", "IPAddressPool"), how many of
	// the objects that existed when this replica began to lead it has not
	// reconciled yet. It reaches 0 once the replica has caught up.
	CatchUpPending *prometheus.GaugeVec
}

// NewController returns unregistered collectors.
func NewController() *Controller {
	return &Controller{
		AddressesInUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "pool", Name: "addresses_in_use",
			Help: "Addresses of the pool assigned to Services, by IP family.",
		}, []string{"pool", "family"}),
		AddressesTotal: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "pool", Name: "addresses_total",
			Help: "Allocatable addresses of the pool, by IP family.",
		}, []string{"pool", "family"}),
		AllocationErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "controller", Name: "allocation_errors_total",
			Help: "Failed IP allocations, by reason.",
		}, []string{"reason"}),
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "controller", Name: "reconciles_total",
			Help: "Finished reconciles, by controller and result (success, error, conflict, fenced, standby).",
		}, []string{"controller", "result"}),
		FencedWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "controller", Name: "fenced_writes_total",
			Help: "Writes not sent, or cut short, because this replica's leader Lease was overdue for renewal.",
		}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "controller", Name: "leader",
			Help: "1 while this replica leads and allocates, else 0.",
		}),
		LeaderTerms: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "controller", Name: "leader_terms_total",
			Help: "Terms this replica has led.",
		}),
		CatchUpPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "controller", Name: "catch_up_pending",
			Help: "Objects that existed when this replica began to lead and that it has not reconciled yet, by kind.",
		}, []string{"kind"}),
	}
}

// Register registers every collector with reg.
func (c *Controller) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.AddressesInUse, c.AddressesTotal, c.AllocationErrors, c.Reconciles, c.FencedWrites, c.Leader, c.LeaderTerms, c.CatchUpPending} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("register collector: %w", err)
		}
	}
	return nil
}

// ForgetPool drops the gauges of a pool that no longer exists.
func (c *Controller) ForgetPool(pool string) {
	c.AddressesInUse.DeletePartialMatch(prometheus.Labels{"pool": pool})
	c.AddressesTotal.DeletePartialMatch(prometheus.Labels{"pool": pool})
}
