package liveness

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsRegister(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	m.MemberChanges.WithLabelValues(changeJoin).Inc()
	m.JoinAttempts.WithLabelValues(joinError).Inc()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{"herald_speaker_health_score", "herald_speaker_member_changes_total", "herald_speaker_member_join_attempts_total", "herald_speaker_memberlist_keys", "herald_speaker_members"}
	if !slices.Equal(names, want) {
		t.Errorf("metrics %v, want %v", names, want)
	}
	if err := m.Register(reg); err == nil {
		t.Error("registering the same collectors twice succeeded")
	}
}
