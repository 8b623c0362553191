package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat/compattest"
)

// TestMetalLBMetricsRegistered: the speaker's collectors, registered as
// newSpeaker does, include every metric MetalLB's speaker exports, with its
// label names.
func TestMetalLBMetricsRegistered(t *testing.T) {
	rec := compattest.NewRecorder(prometheus.NewPedanticRegistry())
	if _, _, _, _, err := newMetrics(rec); err != nil {
		t.Fatal(err)
	}
	for _, m := range rec.Missing(compattest.Speaker) {
		t.Error(m)
	}
}
