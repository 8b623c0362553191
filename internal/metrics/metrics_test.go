package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/internal/metallbcompat"
)

// TestMetalLBViews: MetalLB's allocator gauges are Herald's pool gauges
// summed over the IP families, follow every update, and lose a pool's
// series when ForgetPool drops Herald's.
func TestMetalLBViews(t *testing.T) {
	c := NewController()
	reg := prometheus.NewPedanticRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := metallbcompat.Register(reg, c.ConfigViews()...); err != nil {
		t.Fatal(err)
	}
	names := []string{"metallb_allocator_addresses_in_use_total", "metallb_allocator_addresses_total", "metallb_k8s_client_config_loaded_bool", "metallb_k8s_client_config_stale_bool"}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"dual-stack pool", func() {
			c.AddressesInUse.WithLabelValues("blue", "IPv4").Set(2)
			c.AddressesInUse.WithLabelValues("blue", "IPv6").Set(1)
			c.AddressesTotal.WithLabelValues("blue", "IPv4").Set(256)
			c.AddressesTotal.WithLabelValues("blue", "IPv6").Set(65536)
			c.AddressesInUse.WithLabelValues("red", "IPv4").Set(0)
			c.AddressesTotal.WithLabelValues("red", "IPv4").Set(16)
			c.ConfigLoaded.Set(1)
		}, `
metallb_allocator_addresses_in_use_total{pool="blue"} 3
metallb_allocator_addresses_in_use_total{pool="red"} 0
metallb_allocator_addresses_total{pool="blue"} 65792
metallb_allocator_addresses_total{pool="red"} 16
metallb_k8s_client_config_loaded_bool 1
metallb_k8s_client_config_stale_bool 0
`},
		{"update and a problem", func() {
			c.AddressesInUse.WithLabelValues("red", "IPv4").Set(5)
			c.ConfigStale.Set(1)
		}, `
metallb_allocator_addresses_in_use_total{pool="blue"} 3
metallb_allocator_addresses_in_use_total{pool="red"} 5
metallb_allocator_addresses_total{pool="blue"} 65792
metallb_allocator_addresses_total{pool="red"} 16
metallb_k8s_client_config_loaded_bool 1
metallb_k8s_client_config_stale_bool 1
`},
		{"pool deleted", func() { c.ForgetPool("blue") }, `
metallb_allocator_addresses_in_use_total{pool="red"} 5
metallb_allocator_addresses_total{pool="red"} 16
metallb_k8s_client_config_loaded_bool 1
metallb_k8s_client_config_stale_bool 1
`},
	}
	for _, s := range steps {
		s.do()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(header+s.want), names...); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
}

const header = `
# HELP metallb_allocator_addresses_in_use_total Number of IP addresses in use, per pool
# TYPE metallb_allocator_addresses_in_use_total gauge
# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool
# TYPE metallb_allocator_addresses_total gauge
# HELP metallb_k8s_client_config_loaded_bool 1 if the MetalLB configuration was successfully loaded at least once.
# TYPE metallb_k8s_client_config_loaded_bool gauge
# HELP metallb_k8s_client_config_stale_bool 1 if running on a stale configuration, because the latest config failed to load.
# TYPE metallb_k8s_client_config_stale_bool gauge
`
