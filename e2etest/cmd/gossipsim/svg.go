package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// writeSVG plots, per timings mode, the median time until every IP of the
// killed node is owned again, against the cluster size (sizes evenly spaced
// in the order given), with the 1 s goal as a dashed line.
func writeSVG(path string, sums []summary) error {
	const w, h, left, bottom, top, right = 640, 360, 60, 40, 20, 120
	var sizes []int
	top_ := time.Second
	for _, s := range sums {
		if !slices.Contains(sizes, s.n) {
			sizes = append(sizes, s.n)
		}
		top_ = max(top_, s.maxOwn)
	}
	ymax := float64((top_ + 500*time.Millisecond).Truncate(500 * time.Millisecond))
	x := func(n int) float64 {
		i := slices.Index(sizes, n)
		return left + float64(i)*float64(w-left-right)/float64(max(1, len(sizes)-1))
	}
	y := func(d time.Duration) float64 { return float64(h-bottom) - float64(d)/ymax*float64(h-bottom-top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	for d := time.Duration(0); float64(d) <= ymax; d += 500 * time.Millisecond {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.1f s</text>`+"\n", left, w-right, y(d), y(d), left-6, y(d)+4, d.Seconds())
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="red" stroke-dasharray="6,4"/><text x="%d" y="%.1f" fill="red">goal 1 s</text>`+"\n", left, w-right, y(time.Second), y(time.Second), w-right+6, y(time.Second)+4)
	for _, n := range sizes {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x(n), h-bottom+18, n)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">speakers (one killed per round; median and max over the rounds)</text>`+"\n", (left+w-right)/2, h-6)
	colors := []string{"#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"}
	for i, mode := range modesOf(sums) {
		col := colors[i%len(colors)]
		var pts []string
		for _, s := range sums {
			if s.mode != mode {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(s.n), y(s.owned)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/><line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`+"\n", x(s.n), y(s.owned), col, x(s.n), x(s.n), y(s.owned), y(s.maxOwn), col)
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), col)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s timings</text>`+"\n", w-right+6, top+16*(i+2), col, mode)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">failover: kill → every IP owned again</text>`+"\n", left, top-6)
	b.WriteString("</svg>\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write the plot: %w", err)
	}
	return nil
}

func modesOf(sums []summary) []string {
	var out []string
	for _, s := range sums {
		if len(out) == 0 || out[len(out)-1] != s.mode {
			out = append(out, s.mode)
		}
	}
	return out
}
