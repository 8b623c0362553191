// Package metrics defines the controller's Prometheus collectors.
//
// The collectors live in a struct that main constructs and registers with
// controller-runtime's registry, and passes to the reconcilers: there are no
// package globals.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat"
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
	// ServicesUnannounced is how many Services with an IP have one that no
	// node announces (their ServiceAnnouncement says Announced False), as
	// the leader sees it.
	ServicesUnannounced prometheus.Gauge
	// ConfigLoaded is 1 once this replica has put a set of pools in force.
	ConfigLoaded prometheus.Gauge
	// ConfigStale is 1 while the pools in force are not the pools as
	// written: the allocator refused the latest set, or a pool is left out
	// with a problem (see config.Config.Problems).
	ConfigStale prometheus.Gauge
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
		ServicesUnannounced: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "controller", Name: "services_unannounced",
			Help: "Services with an IP that no node announces, as the leader sees it.",
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
		ConfigLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "controller", Name: "config_loaded",
			Help: "1 once this replica has put a set of IPAddressPools in force.",
		}),
		ConfigStale: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "herald", Subsystem: "controller", Name: "config_stale",
			Help: "1 while an IPAddressPool is not in force as written (invalid, overlapping, or the latest set refused).",
		}),
	}
}

// MetalLB returns the views of these collectors under MetalLB's names
// (see docs/metrics.md): its pool gauges have no family label, so the
// families are summed. Register registers them.
func (c *Controller) MetalLB() []*metallbcompat.View {
	pool := []string{"pool"}
	return []*metallbcompat.View{
		{Name: "metallb_allocator_addresses_in_use_total", Help: "Number of IP addresses in use, per pool", Type: prometheus.GaugeValue, Labels: pool, From: c.AddressesInUse},
		{Name: "metallb_allocator_addresses_total", Help: "Number of usable IP addresses, per pool", Type: prometheus.GaugeValue, Labels: pool, From: c.AddressesTotal},
	}
}

// ConfigViews are MetalLB's k8s_client gauges read from ConfigLoaded and
// ConfigStale. The speaker exports the same names, so Register leaves them
// to the controller's main: a registry that holds both components'
// collectors, as the rules' tests build, could not take both.
func (c *Controller) ConfigViews() []*metallbcompat.View {
	return metallbcompat.ConfigViews(c.ConfigLoaded, c.ConfigStale)
}

// Register registers every collector with reg.
func (c *Controller) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.AddressesInUse, c.AddressesTotal, c.AllocationErrors, c.Reconciles, c.FencedWrites, c.Leader, c.LeaderTerms, c.CatchUpPending, c.ConfigLoaded, c.ConfigStale, c.ServicesUnannounced} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("register collector: %w", err)
		}
	}
	return metallbcompat.Register(reg, c.MetalLB()...)
}

// ForgetPool drops the gauges of a pool that no longer exists.
func (c *Controller) ForgetPool(pool string) {
	c.AddressesInUse.DeletePartialMatch(prometheus.Labels{"pool": pool})
	c.AddressesTotal.DeletePartialMatch(prometheus.Labels{"pool": pool})
}
