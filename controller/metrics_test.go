package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat/compattest"
	"github.com/heraldlb/herald/internal/metrics"
)

// TestMetalLBMetricsRegistered: the controller's collectors, registered as
// run does, include every metric MetalLB's controller exports, with its
// label names.
func TestMetalLBMetricsRegistered(t *testing.T) {
	rec := compattest.NewRecorder(prometheus.NewPedanticRegistry())
	if err := metrics.NewController().Register(rec); err != nil {
		t.Fatal(err)
	}
	for _, m := range rec.Missing(compattest.Controller) {
		t.Error(m)
	}
}
