package prometheus

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	client "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/liveness"
	"github.com/heraldlb/herald/internal/metrics"
	"github.com/heraldlb/herald/internal/speaker"
)

// targetLabels are the labels Prometheus and the ServiceMonitors add to
// every series: up has no others.
var targetLabels = []string{"job", "instance", "node", "namespace", "pod", "service", "endpoint", "container"}

// exported is what Herald's binaries export: each metric's labels, and
// which metrics are histograms (whose series end in _bucket, _sum, _count).
type exported struct {
	labels     map[string][]string
	histograms map[string]bool
}

// recorder is a registry that notes the histograms registered with it.
type recorder struct {
	*client.Registry
	ex *exported
}

func (r recorder) Register(c client.Collector) error {
	switch c.(type) {
	case client.Observer, *client.HistogramVec:
		descs := make(chan *client.Desc, 16)
		go func() { c.Describe(descs); close(descs) }()
		for d := range descs {
			r.ex.histograms[descName(d)] = true
		}
	}
	return r.Registry.Register(c)
}

var (
	descFQName = regexp.MustCompile(`^Desc\{fqName: "([^"]*)"`)
	descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
)

func descName(d *client.Desc) string { return descFQName.FindStringSubmatch(d.String())[1] }

// exportedMetrics registers the real collectors of the controller and the
// speaker in a fresh registry and describes them, so that renaming a
// metric, or a label, in the code breaks the rules that use it.
func exportedMetrics(t *testing.T) exported {
	t.Helper()
	ex := exported{labels: map[string][]string{"up": nil}, histograms: map[string]bool{}}
	reg := recorder{client.NewPedanticRegistry(), &ex}
	for _, r := range []interface{ Register(client.Registerer) error }{
		metrics.NewController(), speaker.NewMetrics(), layer2.NewMetrics(), bgp.NewMetrics(), liveness.NewMetrics(),
	} {
		if err := r.Register(reg); err != nil {
			t.Fatal(err)
		}
	}
	descs := make(chan *client.Desc, 64)
	go func() { reg.Describe(descs); close(descs) }()
	for d := range descs {
		var labels []string
		if m := descLabels.FindStringSubmatch(d.String()); m != nil && m[1] != "" {
			labels = strings.Split(m[1], ",")
		}
		ex.labels[descName(d)] = labels
	}
	if len(ex.labels) < 10 {
		t.Fatalf("only %d metrics described: the Desc format may have changed", len(ex.labels))
	}
	return ex
}

// metricOf returns the exported metric a series name belongs to.
func (ex exported) metricOf(name string) (string, bool) {
	if _, ok := ex.labels[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && ex.histograms[base] {
			return base, true
		}
	}
	return "", false
}

// check reports every selector of expr that names no exported metric, or
// matches on a label that metric does not have, and every by/on label that
// none of the metrics in expr has.
func (ex exported) check(expr string) []string {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return []string{err.Error()}
	}
	bad, have := ex.selectorProblems(e)
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		var grouping []string
		switch x := n.(type) {
		case *parser.AggregateExpr:
			grouping = x.Grouping
		case *parser.BinaryExpr:
			if x.VectorMatching != nil && x.VectorMatching.On {
				grouping = x.VectorMatching.MatchingLabels
			}
		}
		for _, l := range grouping {
			if !have[l] && !slices.Contains(targetLabels, l) {
				bad = append(bad, "no metric here has label "+l)
			}
		}
		return nil
	})
	return bad
}

// selectorProblems checks each selector of e, and returns the labels the
// metrics it selects have.
func (ex exported) selectorProblems(e parser.Expr) (bad []string, have map[string]bool) {
	have = map[string]bool{}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		m, ok := ex.metricOf(vs.Name)
		if !ok {
			bad = append(bad, "no metric "+vs.Name)
			return nil
		}
		for _, l := range ex.labels[m] {
			have[l] = true
		}
		if strings.HasSuffix(vs.Name, "_bucket") {
			have["le"] = true
		}
		for _, lm := range vs.LabelMatchers {
			l := lm.Name
			own := slices.Contains(ex.labels[m], l) || (l == "le" && strings.HasSuffix(vs.Name, "_bucket"))
			if l != "__name__" && !own && !slices.Contains(targetLabels, l) {
				bad = append(bad, vs.Name+" has no label "+l)
			}
		}
		return nil
	})
	return bad, have
}

func TestRulesUseExportedMetrics(t *testing.T) {
	ex := exportedMetrics(t)
	for _, g := range ruleGroups(t).Groups {
		for _, r := range g.Rules {
			for _, bad := range ex.check(r.Expr) {
				t.Errorf("rule %s: %s", r.Alert+r.Record, bad)
			}
		}
	}
}

func TestDashboardUsesExportedMetrics(t *testing.T) {
	ex := exportedMetrics(t)
	for title, exprs := range dashboardExprs(t) {
		for _, e := range exprs {
			for _, bad := range ex.check(e) {
				t.Errorf("panel %q: %s", title, bad)
			}
		}
	}
}

// TestCheckCatchesUnknownNames proves the two tests above can fail.
func TestCheckCatchesUnknownNames(t *testing.T) {
	ex := exportedMetrics(t)
	for _, tc := range []struct{ expr, want string }{
		{`herald_bgp_session_down == 1`, "no metric herald_bgp_session_down"},
		{`herald_bgp_session_up{neighbor="x"}`, "herald_bgp_session_up has no label neighbor"},
		{`herald_speaker_announced_ips_bucket`, "no metric herald_speaker_announced_ips_bucket"},
		{`rate(herald_speaker_sync_duration_seconds_bucket{le="1"}[5m])`, ""},
		{`up{job="herald-speaker"}`, ""},
		{`sum by (neighbor) (herald_bgp_session_up)`, "no metric here has label neighbor"},
		{`herald_bgp_session_up and on (peer) herald_speaker_quorum`, ""},
		{`herald_bgp_session_up + on (peer) herald_speaker_announced_ips{peer="x"}`, "herald_speaker_announced_ips has no label peer"},
		{`sum by (node, le) (rate(herald_speaker_sync_duration_seconds_bucket[5m]))`, ""},
	} {
		got := strings.Join(ex.check(tc.expr), "; ")
		if got != tc.want {
			t.Errorf("check(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
