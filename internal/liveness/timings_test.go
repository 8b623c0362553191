package liveness

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestTimingsZeroFieldsTakeDefaults(t *testing.T) {
	got, err := Timings{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got != DefaultTimings() {
		t.Errorf("zero Timings became %+v, want DefaultTimings", got)
	}

	partial := Timings{ProbeInterval: 300 * time.Millisecond, SuspicionMult: 5}
	got, err = partial.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTimings()
	want.ProbeInterval, want.SuspicionMult = 300*time.Millisecond, 5
	if got != want {
		t.Errorf("partial Timings became %+v, want %+v", got, want)
	}
}

func TestTimingsRejectNegativeFields(t *testing.T) {
	for _, tc := range []struct {
		field string
		t     Timings
	}{
		{"TCPTimeout", Timings{TCPTimeout: -1}},
		{"RejoinInterval", Timings{RejoinInterval: -time.Second}},
		{"SuspicionMult", Timings{SuspicionMult: -1}},
		{"AwarenessMaxMultiplier", Timings{AwarenessMaxMultiplier: -2}},
	} {
		_, err := tc.t.withDefaults()
		if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("negative %s: %v, want ErrInvalidOptions naming the field", tc.field, err)
		}
	}
}

func TestTimingsApply(t *testing.T) {
	// Distinct values, so a field copied onto the wrong knob shows.
	tm := Timings{
		ProbeInterval: 1 * time.Second, ProbeTimeout: 2 * time.Second, GossipInterval: 3 * time.Second,
		PushPullInterval: 4 * time.Second, TCPTimeout: 5 * time.Second, RejoinInterval: 6 * time.Second,
		GossipToTheDeadTime: 7 * time.Second, SuspicionMult: 8, SuspicionMaxTimeoutMult: 9,
		IndirectChecks: 10, RetransmitMult: 11, GossipNodes: 12, AwarenessMaxMultiplier: 13,
	}
	c := memberlist.DefaultLANConfig()
	tm.apply(c)
	got := Timings{
		ProbeInterval: c.ProbeInterval, ProbeTimeout: c.ProbeTimeout, GossipInterval: c.GossipInterval,
		PushPullInterval: c.PushPullInterval, TCPTimeout: c.TCPTimeout, RejoinInterval: 6 * time.Second,
		GossipToTheDeadTime: c.GossipToTheDeadTime, SuspicionMult: c.SuspicionMult, SuspicionMaxTimeoutMult: c.SuspicionMaxTimeoutMult,
		IndirectChecks: c.IndirectChecks, RetransmitMult: c.RetransmitMult, GossipNodes: c.GossipNodes, AwarenessMaxMultiplier: c.AwarenessMaxMultiplier,
	}
	if got != tm {
		t.Errorf("memberlist got %+v, want %+v", got, tm)
	}
}

func TestTimingsFor(t *testing.T) {
	d := DefaultTimings()
	for _, tc := range []struct {
		n             int
		probe, ptimeo time.Duration
	}{
		{1, d.ProbeInterval, d.ProbeTimeout},
		{3, d.ProbeInterval, d.ProbeTimeout},
		{100, d.ProbeInterval, d.ProbeTimeout},
		{200, 87 * time.Millisecond, 43 * time.Millisecond},
		{500, 74 * time.Millisecond, 37 * time.Millisecond},
		{1000, 67 * time.Millisecond, 33 * time.Millisecond},
	} {
		got := TimingsFor(tc.n)
		if got.ProbeInterval != tc.probe || got.ProbeTimeout != tc.ptimeo {
			t.Errorf("TimingsFor(%d): probe interval %v, timeout %v; want %v, %v", tc.n, got.ProbeInterval, got.ProbeTimeout, tc.probe, tc.ptimeo)
		}
		// Only the probe changes: the rest stays the defaults.
		want := d
		want.ProbeInterval, want.ProbeTimeout = got.ProbeInterval, got.ProbeTimeout
		if got != want {
			t.Errorf("TimingsFor(%d) = %+v; want the defaults but for the probe, %+v", tc.n, got, want)
		}
		if _, err := got.withDefaults(); err != nil {
			t.Errorf("TimingsFor(%d) is invalid: %v", tc.n, err)
		}
	}
}
