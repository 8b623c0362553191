// Package metrics defines the controller's Prometheus collectors.
//
// The collectors live in a struct that main constructs and registers with
// controller-runtime's registry, and passes to the reconcilers: there are no
// package globals.
package metrics

import (
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
	}
}

// Register registers every collector with reg.
func (c *Controller) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.AddressesInUse, c.AddressesTotal, c.AllocationErrors} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// ForgetPool drops the gauges of a pool that no longer exists.
func (c *Controller) ForgetPool(pool string) {
	c.AddressesInUse.DeletePartialMatch(prometheus.Labels{"pool": pool})
	c.AddressesTotal.DeletePartialMatch(prometheus.Labels{"pool": pool})
}
