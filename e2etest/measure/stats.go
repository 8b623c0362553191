package measure

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Summary is a set of timings: their median, 99th percentile and maximum.
type Summary struct {
	N             int
	P50, P99, Max time.Duration
}

// Summarize computes the Summary of ds. Percentiles are nearest-rank: the
// p99 of 20 trials is their maximum.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Summary{N: len(s), P50: rank(0.5), P99: rank(0.99), Max: s[len(s)-1]}
}

func (s Summary) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("n=%d p50=%s p99=%s max=%s", s.N, r(s.P50), r(s.P99), r(s.Max))
}

// Rounds renders every round's figure, so that no bad round hides behind a
// median.
func Rounds(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.Round(time.Millisecond).String()
	}
	return strings.Join(parts, " ")
}
