package charttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// valueSet is one way of installing the chart, with what it must render.
type valueSet struct {
	name  string
	vals  map[string]any
	check func(t *testing.T, objs map[string]*unstructured.Unstructured)
}

func valueSets() []valueSet {
	return []valueSet{
		{name: "defaults"},
		{name: "monitoring", vals: map[string]any{
			"serviceMonitor": map[string]any{"enabled": true},
			"prometheusRule": map[string]any{"enabled": true},
		}, check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			for _, k := range []string{"ServiceMonitor/herald-system/herald-controller", "ServiceMonitor/herald-system/herald-speaker",
				"Service/herald-system/herald-speaker-metrics", "PrometheusRule/herald-system/herald"} {
				if objs[k] == nil {
					t.Errorf("%s not rendered", k)
				}
			}
			// Both endpoints serve metrics only to authorized callers
			// over HTTPS; Prometheus presents its token.
			for _, c := range []string{"controller", "speaker"} {
				if sm := objs["ServiceMonitor/herald-system/herald-"+c]; sm != nil {
					wantField(t, sm.Object, "https", "spec", "endpoints", "0", "scheme")
					wantField(t, sm.Object, "https-metrics", "spec", "endpoints", "0", "port")
					wantField(t, sm.Object, "/var/run/secrets/kubernetes.io/serviceaccount/token", "spec", "endpoints", "0", "bearerTokenFile")
					// The PrometheusRule matches on this job name.
					wantField(t, sm.Object, "herald-"+c, "spec", "endpoints", "0", "relabelings", "0", "replacement")
				}
			}
			if g, _, _ := unstructured.NestedSlice(objs["PrometheusRule/herald-system/herald"].Object, "spec", "groups"); len(g) == 0 {
				t.Error("PrometheusRule has no groups from files/rules.yaml")
			}
		}},
		{name: "placement", vals: map[string]any{
			"logLevel": "debug",
			"controller": map[string]any{
				"image":          map[string]any{"registry": "registry.example", "repository": "mirror/controller", "tag": "v9", "pullPolicy": "Always"},
				"replicas":       3,
				"nodeSelector":   map[string]any{"node-role.kubernetes.io/control-plane": ""},
				"resources":      map[string]any{"requests": map[string]any{"cpu": "200m"}},
				"leaderElection": map[string]any{"leaseDuration": "30s"},
			},
			"speaker": map[string]any{
				"tolerations": []any{map[string]any{"operator": "Exists"}},
			},
		}, check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			d := objs["Deployment/herald-system/herald-controller"].Object
			wantField(t, d, int64(3), "spec", "replicas")
			wantField(t, d, "200m", "spec", "template", "spec", "containers", "0", "resources", "requests", "cpu")
			wantField(t, d, "registry.example/mirror/controller:v9", "spec", "template", "spec", "containers", "0", "image")
			wantField(t, d, "Always", "spec", "template", "spec", "containers", "0", "imagePullPolicy")
			wantField(t, d, "", "spec", "template", "spec", "nodeSelector", "node-role.kubernetes.io/control-plane")
			wantArgs(t, d, "--zap-log-level=debug", "--leader-elect-lease-duration=30s")
			ds := objs["DaemonSet/herald-system/herald-speaker"].Object
			wantField(t, ds, "Exists", "spec", "template", "spec", "tolerations", "0", "operator")
			wantArgs(t, ds, "--zap-log-level=debug")
		}},
		{name: "memberlist-and-bgp", vals: map[string]any{
			"speaker": map[string]any{
				"memberlist": map[string]any{"create": true, "secretName": "gossip", "key": "c2VjcmV0"},
				"bgp":        map[string]any{"listenPort": 1790},
				"interfaces": map[string]any{"include": []any{"^eth", "^bond0$"}, "exclude": []any{"^veth"}},
			},
		}, check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			s := objs["Secret/herald-system/gossip"]
			if s == nil {
				t.Fatal("memberlist Secret not rendered")
			}
			wantField(t, s.Object, "YzJWamNtVjA=", "data", "secretkey")
			wantArgs(t, objs["DaemonSet/herald-system/herald-speaker"].Object, "--memberlist-secret=gossip", "--bgp-listen-port=1790",
				"--interfaces=^eth,^bond0$", "--exclude-interfaces=^veth")
			// The controller grants the speakers that Secret by name.
			wantArgs(t, objs["Deployment/herald-system/herald-controller"].Object, "--memberlist-secret=gossip")
			wantField(t, objs["Role/herald-system/herald-speaker-secrets"].Object, "gossip", "rules", "0", "resourceNames", "0")
		}},
		{name: "memberlist-rotation", vals: map[string]any{
			"speaker": map[string]any{
				"memberlist": map[string]any{"create": true, "key": "the-new-key-0123", "extraKeys": map[string]any{"old": "the-old-key-0123"}},
			},
		}, check: func(t *testing.T, objs map[string]*unstructured.Unstructured) {
			s := objs["Secret/herald-system/herald-memberlist"]
			if s == nil {
				t.Fatal("memberlist Secret not rendered")
			}
			wantField(t, s.Object, "dGhlLW5ldy1rZXktMDEyMw==", "data", "secretkey")
			wantField(t, s.Object, "dGhlLW9sZC1rZXktMDEyMw==", "data", "secretkey.old")
		}},
	}
}

func TestValueSets(t *testing.T) {
	c := loadChart(t)
	for _, vs := range valueSets() {
		t.Run(vs.name, func(t *testing.T) {
			objs := render(t, c, vs.vals)
			if vs.check != nil {
				vs.check(t, objs)
			}
		})
	}
}

func TestLint(t *testing.T) {
	for _, vs := range valueSets() {
		l := lint.RunAll(chartDir(), vs.vals, namespace)
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("%s: lint: %v", vs.name, m)
			}
		}
	}
}

// wantField walks obj by path; a numeric element indexes a list.
func wantField(t *testing.T, obj map[string]any, want any, path ...string) {
	t.Helper()
	var cur any = obj
	for _, p := range path {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[p]
		case []any:
			i := int(p[0] - '0')
			if i >= len(v) {
				t.Errorf("%v: no element %d", path, i)
				return
			}
			cur = v[i]
		}
	}
	// Compared as text: the YAML decoder picks int64 or float64 for numbers.
	if fmt.Sprint(cur) != fmt.Sprint(want) {
		t.Errorf("%v = %#v, want %#v", path, cur, want)
	}
}

func wantArgs(t *testing.T, obj map[string]any, want ...string) {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
	for _, w := range want {
		if !slices.Contains(args, w) {
			t.Errorf("args %v lack %s", args, w)
		}
	}
}

// TestMemberlistExtraKeysAreChecked: the schema refuses an extra key the
// speaker would refuse (under 16 bytes) and a suffix that cannot be a
// Secret's data key. (Helm reports a bad property name at a wrong path, so
// that error is known by the name it quotes.)
func TestMemberlistExtraKeysAreChecked(t *testing.T) {
	c := loadChart(t)
	for name, extra := range map[string]map[string]any{
		"short key":    {"next": "short"},
		"bad suffix":   {"next key": "the-new-key-0123"},
		"not a string": {"next": 12},
	} {
		vals := map[string]any{"speaker": map[string]any{"memberlist": map[string]any{"create": true, "key": "the-old-key-0123", "extraKeys": extra}}}
		opts := common.ReleaseOptions{Name: "herald", Namespace: namespace, IsInstall: true}
		if _, err := util.ToRenderValues(c, vals, opts, common.DefaultCapabilities); err == nil {
			t.Errorf("%s: values %v accepted", name, extra)
		} else if !strings.Contains(err.Error(), "extraKeys") && !strings.Contains(err.Error(), "next key") {
			t.Errorf("%s: the error does not name extraKeys or the suffix: %v", name, err)
		}
	}
}
