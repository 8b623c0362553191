package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat/compattest"
)

// TestMetalLBMetricsRegistered: the controller's collectors, registered as
// run does, include every metric MetalLB's controller exports, with its
// label names.
func TestMetalLBMetricsRegistered(t *testing.T) {
	rec := compattest.NewRecorder(prometheus.NewPedanticRegistry())
	if _, err := newMetrics(rec); err != nil {
		t.Fatal(err)
	}
	for _, m := range rec.Missing(compattest.Controller) {
		t.Error(m)
	}
}
