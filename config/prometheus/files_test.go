package prometheus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

// chartRules is the chart's copy of the rules: the PrometheusRule's spec.
var chartRules = filepath.Join("..", "..", "charts", "herald", "files", "rules.yaml")

var promql = parser.NewParser(parser.Options{})

// readYAML decodes a YAML file into generic values, for comparing the two
// copies of the rules by content rather than by bytes and comments.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return v
}

// ruleGroups parses the rules as Prometheus itself loads a rule file, with
// unknown fields refused, so a typo in "for" or "annotations" fails here.
func ruleGroups(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	b, err := os.ReadFile(chartRules)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(b, false, model.UTF8Validation, promql, nil)
	for _, err := range errs {
		t.Errorf("%s: %v", chartRules, err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatalf("%s: no rule groups", chartRules)
	}
	return groups
}

func TestChartRulesAreConfigRules(t *testing.T) {
	pr := readYAML(t, "rules.yaml")
	if pr["kind"] != "PrometheusRule" {
		t.Errorf("rules.yaml: kind %v, want PrometheusRule", pr["kind"])
	}
	if chart := readYAML(t, chartRules); !reflect.DeepEqual(pr["spec"], chart) {
		t.Errorf("%s differs from the spec of config/prometheus/rules.yaml: copy the spec over", chartRules)
	}
}

// TestAlertsDocumented checks that every alert has the annotations an
// operator paged at night reads, and that its runbook entry exists.
func TestAlertsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "alerts.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range ruleGroups(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			for _, k := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[k] == "" {
					t.Errorf("%s: no %s annotation", r.Alert, k)
				}
			}
			anchor := "#" + strings.ToLower(r.Alert)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/alerts.md"+anchor) {
				t.Errorf("%s: runbook_url %q does not point at docs/alerts.md%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !strings.Contains(string(doc), "\n## "+r.Alert+"\n") {
				t.Errorf("%s: docs/alerts.md has no section \"## %s\"", r.Alert, r.Alert)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", r.Alert)
			}
		}
	}
}

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// grafanaVars are the dashboard's Grafana variables, replaced by a value
// of the same type so that the query parses as PromQL.
var grafanaVars = regexp.MustCompile(`\$__rate_interval|\$__interval|\$__range`)

// dashboardExprs returns the PromQL of every panel, keyed by panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parse dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard.json: title %q, uid %q: both are needed to import it", d.Title, d.UID)
	}
	out := map[string][]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out[p.Title] = append(out[p.Title], grafanaVars.ReplaceAllString(tg.Expr, "5m"))
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		t.Fatal("dashboard.json: no panel has a query")
	}
	return out
}
