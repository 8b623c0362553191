package speaker

import (
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

func TestLive(t *testing.T) {
	fc := testingclock.NewFakeClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	h := Health{Beat: fc.Now(), Tick: 10 * time.Second}
	steps := []struct {
		step time.Duration
		want string
	}{
		{0, ""},
		{10 * time.Second, ""},
		{20 * time.Second, ""},
		{time.Millisecond, "main loop: last round 30.001s ago, more than 3 times its 10s tick"},
		{time.Hour, "main loop: last round 1h0m30.001s ago"},
	}
	for _, s := range steps {
		fc.Step(s.step)
		err := Live(h, fc.Now())
		if (err == nil) != (s.want == "") || err != nil && !strings.HasPrefix(err.Error(), s.want) {
			t.Errorf("at %v: Live = %v, want %q", fc.Now().Sub(h.Beat), err, s.want)
		}
	}
	if err := Live(Health{Tick: time.Second}, fc.Now()); err != nil {
		t.Errorf("before the loop starts: Live = %v", err)
	}
}

func TestReady(t *testing.T) {
	beat := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ok := Health{Beat: beat, Tick: time.Second}
	tests := []struct {
		name string
		h    func(*Health)
		want []string
	}{
		{"alone by design, first node", func(h *Health) {}, nil},
		{"joined", func(h *Health) { h.Peers, h.Members = 2, 2 }, nil},
		{"not started", func(h *Health) { h.Beat = time.Time{} }, []string{"main loop: no plan made yet"}},
		{"not joined", func(h *Health) { h.Peers = 2 }, []string{"memberlist: not joined, 2 other speakers have Leases"}},
		{"listeners open", func(h *Health) { h.Wanted, h.Listening = []string{"eth0", "eth0"}, []string{"eth0", "eth1"} }, nil},
		{"listener missing", func(h *Health) { h.Wanted, h.Listening = []string{"eth1", "eth0", "eth1"}, []string{"eth0"} },
			[]string{"layer2: no ARP/NDP listener open on eth1"}},
		{"BGP configured", func(h *Health) { h.BGPWanted, h.BGPConfigured = 2, 2 }, nil},
		{"BGP missing", func(h *Health) { h.BGPWanted, h.BGPConfigured = 2, 1 }, []string{"bgp: 1 of 2 sessions"}},
		{"several", func(h *Health) { h.Peers, h.BGPWanted = 1, 1 }, []string{"memberlist: not joined", "bgp: 0 of 1 sessions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ok
			tt.h(&h)
			err := Ready(h)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Ready = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Ready = nil, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Ready = %q, want %q", lines, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("Ready line %d = %q, want %q", i, lines[i], w)
				}
			}
		})
	}
}
