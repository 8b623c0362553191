package metallbcompat

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestView: series that agree on MetalLB's labels are summed, a series
// Rewrite refuses is left out, and a series deleted from the source is gone
// from the view.
func TestView(t *testing.T) {
	src := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "herald_x_total", Help: "x"}, []string{"peer", "family"})
	v := &View{Name: "metallb_x_total", Help: "MetalLB's x", Type: prometheus.CounterValue, Labels: []string{"peer"}, From: src,
		Rewrite: func(_, name string) (string, bool) {
			return map[string]string{"tor": "198.51.100.1:179"}[name], name == "tor"
		}}
	src.WithLabelValues("tor", "IPv4").Add(2)
	src.WithLabelValues("tor", "IPv6").Add(3)
	src.WithLabelValues("unknown", "IPv4").Add(7)
	const want = `
# HELP metallb_x_total MetalLB's x
# TYPE metallb_x_total counter
metallb_x_total{peer="198.51.100.1:179"} 5
`
	if err := testutil.CollectAndCompare(v, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if got := LabelValues(src, "peer"); !slices.Equal(got, []string{"tor", "unknown"}) {
		t.Errorf("LabelValues = %v, want [tor unknown]", got)
	}
	src.DeletePartialMatch(prometheus.Labels{"peer": "tor"})
	if n := testutil.CollectAndCount(v); n != 0 {
		t.Errorf("%d series in the view after the source's were deleted, want 0", n)
	}
}
