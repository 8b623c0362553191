package soak

import "github.com/heraldlb/herald/e2etest/plot"

// Charts are a binary's curves as three panels, each against minutes since
// the soak started: RSS, the heap (in use and its GC goal) in MiB, and
// goroutines.
func Charts(binary string, curves []Curve) []plot.Chart {
	res := plot.Chart{Title: binary + ": RSS", XLabel: "minutes", YLabel: "MiB"}
	mem := plot.Chart{Title: binary + ": heap in use, and heap goal (the live heap at the last GC x 2)", XLabel: "minutes", YLabel: "MiB"}
	gor := plot.Chart{Title: binary + ": goroutines", XLabel: "minutes", YLabel: "goroutines"}
	for _, c := range curves {
		var x, rss, heap, goal, g []float64
		for _, s := range c.Samples {
			x = append(x, s.At.Minutes())
			rss = append(rss, float64(s.RSS)/(1<<20))
			heap = append(heap, float64(s.HeapInuse)/(1<<20))
			goal = append(goal, float64(s.HeapGoal)/(1<<20))
			g = append(g, float64(s.Goroutines))
		}
		res.Series = append(res.Series, plot.Series{Name: c.Process, X: x, Y: rss})
		mem.Series = append(mem.Series, plot.Series{Name: c.Process + " in use", X: x, Y: heap}, plot.Series{Name: c.Process + " goal", X: x, Y: goal})
		gor.Series = append(gor.Series, plot.Series{Name: c.Process, X: x, Y: g})
	}
	return []plot.Chart{res, mem, gor}
}
