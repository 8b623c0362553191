package soak

import "github.com/heraldlb/herald/e2etest/plot"

// Charts are a binary's curves as two panels: RSS and heap in use in MiB,
// and goroutines, each against minutes since the soak started.
func Charts(binary string, curves []Curve) []plot.Chart {
	mem := plot.Chart{Title: binary + ": RSS and heap in use", XLabel: "minutes", YLabel: "MiB"}
	gor := plot.Chart{Title: binary + ": goroutines", XLabel: "minutes", YLabel: "goroutines"}
	for _, c := range curves {
		var x, rss, heap, g []float64
		for _, s := range c.Samples {
			x = append(x, s.At.Minutes())
			rss = append(rss, float64(s.RSS)/(1<<20))
			heap = append(heap, float64(s.HeapInuse)/(1<<20))
			g = append(g, float64(s.Goroutines))
		}
		mem.Series = append(mem.Series, plot.Series{Name: c.Process + " RSS", X: x, Y: rss}, plot.Series{Name: c.Process + " heap", X: x, Y: heap})
		gor.Series = append(gor.Series, plot.Series{Name: c.Process, X: x, Y: g})
	}
	return []plot.Chart{mem, gor}
}
