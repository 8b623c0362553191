package speaker

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/internal/plan"
)

func TestLimitWarnings(t *testing.T) {
	tests := []struct {
		name       string
		prev, next map[string]plan.Limit
		want       []string
	}{
		{"below 80%: nothing", nil, map[string]plan.Limit{"tor": {Max: 10, Wanted: 7}}, nil},
		{"reaches 80%", map[string]plan.Limit{"tor": {Max: 10, Wanted: 7}}, map[string]plan.Limit{"tor": {Max: 10, Wanted: 8}}, []string{"peer tor gets 8 routes, 80% of its toAdvertise.maxPrefixes 10"}},
		{"stays near: once", map[string]plan.Limit{"tor": {Max: 10, Wanted: 8}}, map[string]plan.Limit{"tor": {Max: 10, Wanted: 9}}, nil},
		{"starts withholding", map[string]plan.Limit{"tor": {Max: 10, Wanted: 9}}, map[string]plan.Limit{"tor": {Max: 10, Wanted: 12}}, []string{"2 of the 12 routes for peer tor are withheld"}},
		{"keeps withholding: once", map[string]plan.Limit{"tor": {Max: 10, Wanted: 12}}, map[string]plan.Limit{"tor": {Max: 10, Wanted: 13}}, nil},
		{"two sessions, sorted", nil, map[string]plan.Limit{"z": {Max: 1, Wanted: 2}, "a": {Max: 5, Wanted: 4}}, []string{"peer a gets 4", "1 of the 2 routes for peer z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := limitWarnings(tt.prev, tt.next)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("warning %q, want one containing %q", got[i], tt.want[i])
				}
			}
		})
	}
}

// The limit gauges follow the plan's limits, and a session that loses its
// limit loses its series.
func TestLimitMetrics(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.Limits.set(map[string]plan.Limit{"tor": {Max: 2, Wanted: 5}, "edge": {Max: 10, Wanted: 1}})
	want := `
# HELP herald_bgp_prefixes_withheld Routes not advertised to the peer because of its toAdvertise.maxPrefixes.
# TYPE herald_bgp_prefixes_withheld gauge
herald_bgp_prefixes_withheld{peer="edge"} 0
herald_bgp_prefixes_withheld{peer="tor"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "herald_bgp_prefixes_withheld"); err != nil {
		t.Error(err)
	}
	m.Limits.set(map[string]plan.Limit{"edge": {Max: 10, Wanted: 1}})
	for _, name := range []string{"herald_bgp_prefixes_withheld", "herald_bgp_prefixes_limit", "herald_bgp_prefixes_wanted"} {
		if n := testutil.CollectAndCount(reg, name); n != 1 {
			t.Errorf("%s has %d series after tor lost its limit, want 1", name, n)
		}
	}
}
