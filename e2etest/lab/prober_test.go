package lab

import (
	"testing"
	"time"
)

func TestOutage(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(ms int, ok bool) ProbeRecord {
		return ProbeRecord{Kind: "probe", At: t0.Add(time.Duration(ms) * time.Millisecond), OK: ok}
	}
	tests := []struct {
		name      string
		probes    []ProbeRecord
		want      time.Duration
		recovered bool
	}{
		{"none", nil, 0, true},
		{"all good", []ProbeRecord{at(0, true), at(50, true)}, 0, true},
		{"one gap", []ProbeRecord{at(0, true), at(50, false), at(100, false), at(150, true)}, 150 * time.Millisecond, true},
		{"longest of two", []ProbeRecord{at(0, true), at(50, false), at(100, true), at(150, false), at(200, false), at(250, false), at(300, true)}, 200 * time.Millisecond, true},
		{"never back", []ProbeRecord{at(0, true), at(50, false), at(400, false)}, 400 * time.Millisecond, false},
		{"failing from the start", []ProbeRecord{at(0, false), at(50, false), at(100, true)}, 100 * time.Millisecond, true},
	}
	for _, tt := range tests {
		got, rec := ProbeLog{Probes: tt.probes}.Outage()
		if got != tt.want || rec != tt.recovered {
			t.Errorf("%s: Outage = %v, %v; want %v, %v", tt.name, got, rec, tt.want, tt.recovered)
		}
	}
}
