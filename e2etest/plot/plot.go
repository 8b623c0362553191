// Package plot draws line charts as SVG, for the benchmarks' curves, with no
// plotting program to install.
package plot

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Series is one line: Y against X, in the order given.
type Series struct {
	Name string
	X, Y []float64
}

// Chart is one panel: a title, axis labels and its lines.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// Panel geometry, in SVG pixels.
const (
	width, panelHeight         = 720, 260
	left, right, top, bottom   = 70, 130, 28, 40
	gridLines                  = 4
	plotWidth, plotHeight      = width - left - right, panelHeight - top - bottom
	fallbackXMax, fallbackYMax = 1.0, 1.0
)

var colors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"}

// WriteSVG draws the charts one above the other, each from zero on both
// axes so that a flat line looks flat and growth is seen at its true size.
func WriteSVG(w io.Writer, charts ...Chart) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, panelHeight*len(charts))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, panelHeight*len(charts))
	for i, c := range charts {
		panel(&b, c, float64(i*panelHeight))
	}
	b.WriteString("</svg>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write the plot: %w", err)
	}
	return nil
}

func panel(b *strings.Builder, c Chart, y0 float64) {
	xmax, ymax := bounds(c.Series)
	px := func(x float64) float64 { return left + x/xmax*plotWidth }
	py := func(y float64) float64 { return y0 + top + plotHeight - y/ymax*plotHeight }
	fmt.Fprintf(b, `<text x="%d" y="%.0f" font-weight="bold">%s</text>`+"\n", left, y0+top-10, esc(c.Title))
	for k := 0; k <= gridLines; k++ {
		v := ymax * float64(k) / gridLines
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, left+plotWidth, py(v), py(v), left-6, py(v)+4, num(v))
		xv := xmax * float64(k) / gridLines
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", px(xv), y0+top+plotHeight+16, num(xv))
	}
	fmt.Fprintf(b, `<text x="%d" y="%.0f" text-anchor="middle">%s</text>`+"\n", left+plotWidth/2, y0+panelHeight-6, esc(c.XLabel))
	fmt.Fprintf(b, `<text transform="translate(14,%.0f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", y0+top+plotHeight/2, esc(c.YLabel))
	for i, s := range c.Series {
		col := colors[i%len(colors)]
		var pts []string
		for k := range min(len(s.X), len(s.Y)) {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[k]), py(s.Y[k])))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.Join(pts, " "), col)
		fmt.Fprintf(b, `<text x="%d" y="%.0f" fill="%s">%s</text>`+"\n", left+plotWidth+8, y0+top+16*float64(i+1), col, esc(s.Name))
	}
}

// bounds are the axes' maxima: the data's, with headroom on Y, or 1 for an
// empty axis so that nothing divides by zero.
func bounds(ss []Series) (xmax, ymax float64) {
	for _, s := range ss {
		for _, x := range s.X {
			xmax = math.Max(xmax, x)
		}
		for _, y := range s.Y {
			ymax = math.Max(ymax, y)
		}
	}
	if xmax <= 0 {
		xmax = fallbackXMax
	}
	if ymax <= 0 {
		ymax = fallbackYMax
	}
	return xmax, ymax * 1.1
}

func num(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
