package burst

import (
	"testing"
	"time"
)

func TestCombineTakesMediansAndWorstRound(t *testing.T) {
	round := func(floor, burst, p99, alone, with time.Duration, rss int64, status int) *Report {
		return &Report{
			Services: 10, Clients: 2,
			Floor: Phase{Total: floor}, Burst: Phase{Total: burst, P99: p99},
			DeleteAlone: alone, DeleteWithCtl: with, PeakRSSBytes: rss,
			BurstWrites: Writes{ServiceStatus: status},
		}
	}
	s := time.Second
	got := combine([]*Report{
		round(9*s, 30*s, 200*time.Millisecond, 4*s, 5*s, 60, 10),
		round(8*s, 11*s, 900*time.Millisecond, 5*s, 4*s, 70, 10),
		round(10*s, 12*s, 100*time.Millisecond, 6*s, 6*s, 65, 12),
	})
	if got.Floor.Total != 9*s || got.Burst.Total != 12*s {
		t.Errorf("totals = %v, %v; want the medians 9s, 12s", got.Floor.Total, got.Burst.Total)
	}
	if got.DeleteAlone != 5*s || got.DeleteWithCtl != 5*s {
		t.Errorf("deletes = %v, %v; want the medians 5s, 5s", got.DeleteAlone, got.DeleteWithCtl)
	}
	if got.Burst.P99 != 900*time.Millisecond || got.PeakRSSBytes != 70 || got.BurstWrites.ServiceStatus != 12 {
		t.Errorf("p99 %v, RSS %d, status writes %d; want the worst round's 900ms, 70, 12", got.Burst.P99, got.PeakRSSBytes, got.BurstWrites.ServiceStatus)
	}
	if len(got.Rounds) != 3 {
		t.Errorf("kept %d rounds, want 3", len(got.Rounds))
	}
	if one := round(s, s, s, s, s, 1, 1); combine([]*Report{one}) != one {
		t.Error("a single round is not returned as is")
	}
}
