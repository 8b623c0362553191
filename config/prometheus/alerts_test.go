package prometheus

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// healthy is a cluster where nothing is wrong, as 31 samples a minute
// apart: a leading controller c1 and a standby c2, a pool half used in
// IPv4 and without IPv6, three speakers with quorum, each announcing by
// Layer 2, and n1 with an established BGP session. Each case replaces
// some of its lines (matched by series) to break one thing.
var healthy = []string{
	`up{job="herald-controller", instance="c1", pod="c1"} 1x30`,
	`up{job="herald-controller", instance="c2", pod="c2"} 1x30`,
	`herald_controller_leader{job="herald-controller", instance="c1", pod="c1"} 1x30`,
	`herald_controller_leader{job="herald-controller", instance="c2", pod="c2"} 0x30`,
	lanInUse("50x30"),
	`herald_pool_addresses_total{job="herald-controller", instance="c1", pool="lan", family="IPv4"} 100x30`,
	`herald_pool_addresses_in_use{job="herald-controller", instance="c1", pool="lan", family="IPv6"} 0x30`,
	`herald_pool_addresses_total{job="herald-controller", instance="c1", pool="lan", family="IPv6"} 0x30`,
	`herald_controller_allocation_errors_total{job="herald-controller", instance="c1", reason="PoolExhausted"} 0x30`,
	session("1x30"),
	`herald_speaker_syncs_total{job="herald-speaker", instance="n1", node="n1", result="ok"} 0+1x30`,
	`herald_speaker_syncs_total{job="herald-speaker", instance="n1", node="n1", result="error"} 0x30`,
	speakerSeries("n1", "up", "1x30"), speakerSeries("n2", "up", "1x30"), speakerSeries("n3", "up", "1x30"),
	speakerSeries("n1", "herald_speaker_quorum", "1x30"), speakerSeries("n2", "herald_speaker_quorum", "1x30"), speakerSeries("n3", "herald_speaker_quorum", "1x30"),
	announced("n1", "17x30"), announced("n2", "16x30"), announced("n3", "17x30"),
}

func speakerSeries(node, metric, values string) string {
	return metric + `{job="herald-speaker", instance="` + node + `", node="` + node + `"} ` + values
}

func lanInUse(values string) string {
	return `herald_pool_addresses_in_use{job="herald-controller", instance="c1", pool="lan", family="IPv4"} ` + values
}

func session(values string) string {
	return `herald_bgp_session_up{job="herald-speaker", instance="n1", node="n1", peer="203.0.113.1"} ` + values
}

// The alerts of pool lan and of n1's session, as evaluate names them.
const (
	lanNearlyExhausted = `HeraldPoolNearlyExhausted{family="IPv4", instance="c1", job="herald-controller", pool="lan"}`
	sessionDown        = `HeraldBGPSessionDown{instance="n1", job="herald-speaker", node="n1", peer="203.0.113.1"}`
)

func announced(node, values string) string {
	return `herald_speaker_announced_ips{job="herald-speaker", instance="` + node + `", node="` + node + `", mode="layer2"} ` + values
}

// cluster returns the healthy series with each of changes in place of the
// line for the same series, or added if there is none; a change of "_"
// values only removes the series.
func cluster(changes ...string) string {
	lines := slices.Clone(healthy)
	for _, c := range changes {
		series := c[:strings.LastIndex(c, "} ")+1]
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, series+" ") })
		switch {
		case i < 0:
			lines = append(lines, c)
		case strings.HasSuffix(c, "} _"):
			lines = slices.Delete(lines, i, i+1)
		default:
			lines[i] = c
		}
	}
	return "load 1m\n  " + strings.Join(lines, "\n  ")
}

type alertCase struct {
	name    string
	series  string
	firing  []string // alertname{labels}, without severity
	pending []string
}

func alertCases() []alertCase {
	return []alertCase{
		{name: "healthy", series: cluster()},
		// Pools.
		{name: "pool 95% used for 20m", series: cluster(
			lanInUse("50x10 95x20")),
			firing: []string{lanNearlyExhausted}},
		{name: "pool 95% used for 10m is pending", series: cluster(
			lanInUse("50x20 95x10")),
			pending: []string{lanNearlyExhausted}},
		{name: "a full pool on a replica that no longer leads is stale", series: cluster(
			`herald_pool_addresses_in_use{job="herald-controller", instance="c2", pool="old", family="IPv4"} 99x30`,
			`herald_pool_addresses_total{job="herald-controller", instance="c2", pool="old", family="IPv4"} 100x30`)},
		{name: "allocations failing", series: cluster(
			`herald_controller_allocation_errors_total{job="herald-controller", instance="c1", reason="PoolExhausted"} 0x20 1+1x10`),
			firing: []string{`HeraldAllocationFailing{reason="PoolExhausted"}`}},
		{name: "allocations failed 20m ago only", series: cluster(
			`herald_controller_allocation_errors_total{job="herald-controller", instance="c1", reason="PoolExhausted"} 0+1x5 5x25`)},
		// BGP.
		{name: "BGP session down for 5m", series: cluster(
			session("1x25 0x5")),
			firing: []string{sessionDown}},
		{name: "BGP session down for 1m is pending", series: cluster(
			session("1x29 0")),
			pending: []string{sessionDown}},
		// Announcements.
		{name: "IPs assigned, none announced", series: cluster(
			announced("n1", "17x20 0x10"), announced("n2", "16x20 0x10"), announced("n3", "17x20 0x10")),
			firing: []string{`HeraldServiceWithoutAnnouncer{}`}},
		{name: "no IPs assigned, none announced", series: cluster(
			announced("n1", "0x30"), announced("n2", "0x30"), announced("n3", "0x30"),
			lanInUse("0x30"))},
		{name: "IPs announced by BGP only", series: cluster(
			announced("n1", "0x30"), announced("n2", "0x30"), announced("n3", "0x30"),
			`herald_speaker_announced_ips{job="herald-speaker", instance="n1", node="n1", mode="bgp"} 50x30`)},
		// Speakers.
		{name: "speaker without quorum for 5m", series: cluster(
			speakerSeries("n2", "herald_speaker_quorum", "1x25 0x5")),
			firing: []string{`HeraldSpeakerNotReady{instance="n2", job="herald-speaker", node="n2"}`}},
		{name: "speaker plans failing", series: cluster(
			`herald_speaker_syncs_total{job="herald-speaker", instance="n1", node="n1", result="error"} 0x10 0+1x20`),
			firing: []string{`HeraldSpeakerSyncFailing{node="n1"}`}},
		{name: "speaker failed one plan 15m ago", series: cluster(
			`herald_speaker_syncs_total{job="herald-speaker", instance="n1", node="n1", result="error"} 0x15 1x15`)},
		{name: "speaker not scraped for 10m", series: cluster(
			speakerSeries("n3", "up", "1x20 0x10"), speakerSeries("n3", "herald_speaker_quorum", "_"), announced("n3", "_")),
			firing: []string{`HeraldSpeakerDown{instance="n3", job="herald-speaker", node="n3"}`}},
		{name: "a speaker holds an object it cannot put in force", series: cluster(
			speakerSeries("n2", "herald_speaker_config_stale", "0x10 1x20")),
			firing: []string{`HeraldConfigNotInForce{job="herald-speaker", node="n2"}`}},
		{name: "the controller held a bad pool for 3m only", series: cluster(
			`herald_controller_config_stale{job="herald-controller", instance="c1", pod="c1"} 0x20 1x3 0x7`)},
		// Controller.
		{name: "no replica leads", series: cluster(
			`herald_controller_leader{job="herald-controller", instance="c1", pod="c1"} 1x20 0x10`),
			firing: []string{`HeraldControllerNoLeader{}`}},
		{name: "no controller scraped", series: cluster(
			`herald_controller_leader{job="herald-controller", instance="c1", pod="c1"} _`,
			`herald_controller_leader{job="herald-controller", instance="c2", pod="c2"} _`),
			firing: []string{`HeraldControllerNoLeader{}`}},
	}
}

// TestAlerts feeds each case's series to the rules, evaluated every
// minute for 30 minutes as Prometheus's rule manager does, and checks
// which alerts fire and which are pending at the end.
func TestAlerts(t *testing.T) {
	var alerting []rules.Rule
	for _, g := range ruleGroups(t).Groups {
		for _, r := range g.Rules {
			expr, err := promql.ParseExpr(r.Expr)
			if err != nil {
				t.Fatalf("%s: %v", r.Alert, err)
			}
			alerting = append(alerting, rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
				labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", false, nil))
		}
	}
	for _, tc := range alertCases() {
		t.Run(tc.name, func(t *testing.T) {
			firing, pending := evaluate(t, tc.series, alerting)
			if !slices.Equal(firing, sorted(tc.firing)) {
				t.Errorf("firing:\n  %s\nwant:\n  %s", strings.Join(firing, "\n  "), strings.Join(sorted(tc.firing), "\n  "))
			}
			if !slices.Equal(pending, sorted(tc.pending)) {
				t.Errorf("pending:\n  %s\nwant:\n  %s", strings.Join(pending, "\n  "), strings.Join(sorted(tc.pending), "\n  "))
			}
		})
	}
}

const evalEnd = 30 * time.Minute

// evaluate runs the rules over the series and returns the alerts firing
// and pending at evalEnd. Before it says that nothing fires, it checks
// that the rules did read the series at evalEnd: an empty answer from an
// empty storage would prove nothing.
func evaluate(t *testing.T, series string, alerting []rules.Rule) (firing, pending []string) {
	t.Helper()
	store := promqltest.LoadedStorage(t, series)
	query := rules.EngineQueryFunc(promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery), store)
	ctx := context.Background()
	start := time.Unix(0, 0).UTC()
	for ts := start; !ts.After(start.Add(evalEnd)); ts = ts.Add(time.Minute) {
		for _, r := range alerting {
			if _, err := r.Eval(ctx, 0, ts, query, &url.URL{}, 0); err != nil {
				t.Fatalf("%s at %v: %v", r.Name(), ts.Sub(start), err)
			}
		}
	}
	if v, err := query(ctx, `count({__name__=~"herald_.+"})`, start.Add(evalEnd)); err != nil || len(v) != 1 || v[0].F == 0 {
		t.Fatalf("no herald series at the end of the evaluation (%v, %v): the case proves nothing", v, err)
	}
	for _, r := range alerting {
		for _, a := range r.(*rules.AlertingRule).ActiveAlerts() {
			checkAnnotations(t, a)
			name := a.Labels.Get(model.AlertNameLabel) + labels.NewBuilder(a.Labels).Del(model.AlertNameLabel, "severity").Labels().String()
			if a.State == rules.StateFiring {
				firing = append(firing, name)
			} else {
				pending = append(pending, name)
			}
		}
	}
	return sorted(firing), sorted(pending)
}

// checkAnnotations fails on a template that did not expand, or that
// names a label the alert does not have.
func checkAnnotations(t *testing.T, a *rules.Alert) {
	t.Helper()
	a.Annotations.Range(func(l labels.Label) {
		if strings.Contains(l.Value, "error expanding") || strings.Contains(l.Value, "<no value>") || strings.Contains(l.Value, "  ") {
			t.Errorf("%s: annotation %s = %q", a.Labels.Get(model.AlertNameLabel), l.Name, l.Value)
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
