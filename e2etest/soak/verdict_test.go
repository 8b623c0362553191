package soak

import (
	"strings"
	"testing"
	"time"
)

// curve makes n samples whose heap goal and RSS follow f(i) MiB, with
// g(i) goroutines; the heap in use swings through a GC sawtooth that is
// never judged.
func curve(n int, f func(i int) float64, g func(i int) int) []Sample {
	ss := make([]Sample, n)
	for i := range ss {
		b := int64(f(i) * (1 << 20))
		ss[i] = Sample{At: time.Duration(i) * 10 * time.Second, RSS: 2 * b, HeapGoal: b, HeapInuse: b / int64(1+i%3), Goroutines: g(i)}
	}
	return ss
}

func TestJudge(t *testing.T) {
	lim := Limits{Warmup: 0.2, MaxGrowth: 0.05, GoroutineSlack: 5}
	flatG := func(int) int { return 40 }
	tests := []struct {
		name    string
		samples []Sample
		wantOK  bool
		wantWhy []string
	}{
		{
			name: "warm-up growth then a GC sawtooth is flat",
			samples: curve(30, func(i int) float64 {
				if i < 6 {
					return float64(10 + 5*i)
				}
				return 40 + float64(i%3)*4 // 40, 44, 48 sawtooth
			}, flatG),
			wantOK: true,
		},
		{
			name:    "a steady leak of 0.5% a sample fails heap and RSS",
			samples: curve(30, func(i int) float64 { return 40 * (1 + 0.005*float64(i)) }, flatG),
			wantWhy: []string{"heap goal (live heap) grew", "RSS grew"},
		},
		{
			name:    "goroutines that climb fail",
			samples: curve(30, func(int) float64 { return 40 }, func(i int) int { return 40 + i }),
			wantWhy: []string{"goroutines spanned"},
		},
		{
			name:    "too short to judge",
			samples: curve(3, func(int) float64 { return 40 }, flatG),
			wantWhy: []string{"samples after the warm-up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge("p", tt.samples, lim)
			if v.OK != tt.wantOK {
				t.Fatalf("OK = %v, want %v: %s", v.OK, tt.wantOK, v)
			}
			why := strings.Join(v.Why, "; ")
			for _, w := range tt.wantWhy {
				if !strings.Contains(why, w) {
					t.Errorf("why %q lacks %q", why, w)
				}
			}
			if len(tt.wantWhy) == 0 && why != "" {
				t.Errorf("why = %q, want none", why)
			}
		})
	}
}
