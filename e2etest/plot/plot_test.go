package plot

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestWriteSVG(t *testing.T) {
	tests := []struct {
		name       string
		charts     []Chart
		wantLines  int
		wantInText []string
	}{
		{
			name: "two panels, three lines",
			charts: []Chart{
				{Title: "memory", XLabel: "minutes", YLabel: "MiB", Series: []Series{
					{Name: "rss", X: []float64{0, 1, 2}, Y: []float64{10, 11, 10}},
					{Name: "heap", X: []float64{0, 1, 2}, Y: []float64{5, 6, 5}},
				}},
				{Title: "goroutines <all>", Series: []Series{{Name: "g", X: []float64{0, 1}, Y: []float64{40, 40}}}},
			},
			wantLines:  3,
			wantInText: []string{"memory", "goroutines &lt;all&gt;", "rss", "heap"},
		},
		{
			name:      "an empty series does not divide by zero",
			charts:    []Chart{{Title: "empty", Series: []Series{{Name: "none"}}}},
			wantLines: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteSVG(&b, tt.charts...); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
				t.Fatalf("not well-formed XML: %v\n%s", err, out)
			}
			if got := strings.Count(out, "<polyline"); got != tt.wantLines {
				t.Errorf("polylines = %d, want %d", got, tt.wantLines)
			}
			if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
				t.Errorf("plot holds NaN or Inf:\n%s", out)
			}
			for _, s := range tt.wantInText {
				if !strings.Contains(out, s) {
					t.Errorf("plot lacks %q", s)
				}
			}
		})
	}
}
