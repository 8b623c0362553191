package measure

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		in            []time.Duration
		p50, p99, max int
	}{
		{nil, 0, 0, 0},
		{ms(5), 5, 5, 5},
		{ms(3, 1, 2), 2, 3, 3},
		{ms(4, 1, 3, 2), 2, 4, 4},
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11), 10, 20, 20},
	}
	for _, tt := range tests {
		s := Summarize(tt.in)
		if s.P50 != time.Duration(tt.p50)*time.Millisecond || s.P99 != time.Duration(tt.p99)*time.Millisecond || s.Max != time.Duration(tt.max)*time.Millisecond {
			t.Errorf("Summarize(%v) = %v", tt.in, s)
		}
	}
}
