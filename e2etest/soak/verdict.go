package soak

import (
	"fmt"
	"slices"
	"strings"
)

// Limits say what flat means.
type Limits struct {
	// Warmup is the fraction of the run left out at its start, while
	// caches fill and the runtime sizes its heap (0.2: the first 20%).
	Warmup float64
	// MaxGrowth bounds the growth of the heap in use and of the RSS, as a
	// fraction (0.05: 5%).
	MaxGrowth float64
	// GoroutineSlack bounds max - min goroutines after the warm-up.
	GoroutineSlack int
}

// Verdict is one process's judgement.
type Verdict struct {
	Process string
	// HeapGrowth (of the heap goal, which follows the live heap) and
	// RSSGrowth compare the median of the last window with the median of
	// the first window after the warm-up; each window is as long as the
	// warm-up. Medians, because memory steps at each GC and one sample at
	// a peak or a trough says nothing about a trend. The heap in use is
	// not judged: between GCs it swings by up to GOGC% of the live heap,
	// which at Herald's 10-20 MiB drowns a 5% trend.
	HeapGrowth, RSSGrowth float64
	// GoroutineMin and GoroutineMax span the samples after the warm-up.
	GoroutineMin, GoroutineMax int
	Samples                    int
	OK                         bool
	// Why names each limit that was missed.
	Why []string
}

const minWindow = 3

// Judge decides whether a process's samples stayed flat. Too few samples
// after the warm-up fail: a soak that measured nothing proves nothing.
func Judge(process string, ss []Sample, lim Limits) Verdict {
	v := Verdict{Process: process, Samples: len(ss)}
	skip := int(float64(len(ss)) * lim.Warmup)
	steady := ss[skip:]
	// A window of fewer than minWindow samples is one GC cycle's noise.
	win := max(skip, minWindow)
	if len(steady) < 2*win {
		v.Why = append(v.Why, fmt.Sprintf("%d samples after the warm-up, need at least %d", len(steady), 2*win))
		return v
	}
	v.HeapGrowth = growth(steady[:win], steady[len(steady)-win:], func(s Sample) int64 { return s.HeapGoal })
	v.RSSGrowth = growth(steady[:win], steady[len(steady)-win:], func(s Sample) int64 { return s.RSS })
	v.GoroutineMin, v.GoroutineMax = steady[0].Goroutines, steady[0].Goroutines
	for _, s := range steady {
		v.GoroutineMin, v.GoroutineMax = min(v.GoroutineMin, s.Goroutines), max(v.GoroutineMax, s.Goroutines)
	}
	if v.HeapGrowth > lim.MaxGrowth {
		v.Why = append(v.Why, fmt.Sprintf("heap goal (live heap) grew %.1f%% > %.1f%%", 100*v.HeapGrowth, 100*lim.MaxGrowth))
	}
	if v.RSSGrowth > lim.MaxGrowth {
		v.Why = append(v.Why, fmt.Sprintf("RSS grew %.1f%% > %.1f%%", 100*v.RSSGrowth, 100*lim.MaxGrowth))
	}
	if d := v.GoroutineMax - v.GoroutineMin; d > lim.GoroutineSlack {
		v.Why = append(v.Why, fmt.Sprintf("goroutines spanned %d..%d, more than %d apart", v.GoroutineMin, v.GoroutineMax, lim.GoroutineSlack))
	}
	v.OK = len(v.Why) == 0
	return v
}

func growth(first, last []Sample, f func(Sample) int64) float64 {
	a, b := median(first, f), median(last, f)
	if a == 0 {
		return 0
	}
	return float64(b-a) / float64(a)
}

func median(ss []Sample, f func(Sample) int64) int64 {
	vs := make([]int64, len(ss))
	for i, s := range ss {
		vs[i] = f(s)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

func (v Verdict) String() string {
	mark := "MET"
	if !v.OK {
		mark = "MISSED: " + strings.Join(v.Why, "; ")
	}
	return fmt.Sprintf("%s: heap goal %+.1f%%, RSS %+.1f%%, goroutines %d..%d over %d samples: %s",
		v.Process, 100*v.HeapGrowth, 100*v.RSSGrowth, v.GoroutineMin, v.GoroutineMax, v.Samples, mark)
}
