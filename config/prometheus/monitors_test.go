package prometheus

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// objects reads a multi-document YAML file into generic objects, keyed by
// kind/name.
func objects(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var o map[string]any
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		if o != nil {
			out[fmt.Sprintf("%v/%v", o["kind"], field(o, "metadata", "name"))] = o
		}
	}
	return out
}

// field walks maps by key and lists by index ("0"); nil when absent.
func field(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			if _, err := fmt.Sscan(p, &i); err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestMonitorsScrapeTheWorkloads checks each ServiceMonitor against the
// workload it scrapes: the Service reaches the container's metrics port,
// the scrape is HTTPS with Prometheus's token as both endpoints require,
// and job is the name the rules match on.
func TestMonitorsScrapeTheWorkloads(t *testing.T) {
	mon := objects(t, "monitors.yaml")
	for c, workload := range map[string]string{
		"controller": filepath.Join("..", "controller", "deployment.yaml"),
		"speaker":    filepath.Join("..", "speaker", "daemonset.yaml"),
	} {
		ws := objects(t, workload)
		if len(ws) != 1 {
			t.Fatalf("%s: %d objects, want the workload alone", workload, len(ws))
		}
		var w map[string]any
		for _, w = range ws {
		}
		svc, sm := mon["Service/herald-"+c+"-metrics"], mon["ServiceMonitor/herald-"+c]
		if svc == nil || sm == nil {
			t.Fatalf("%s: no Service herald-%[1]s-metrics or no ServiceMonitor herald-%[1]s", c)
		}
		podLabels := field(w, "spec", "template", "metadata", "labels").(map[string]any)
		for k, v := range field(svc, "spec", "selector").(map[string]any) {
			if podLabels[k] != v {
				t.Errorf("%s: Service selects %s=%v, the pods have %v", c, k, v, podLabels[k])
			}
		}
		if want, got := containerPort(w, "https-metrics"), field(svc, "spec", "ports", "0", "port"); want == nil || got != want {
			t.Errorf("%s: Service port %v, container's https-metrics port %v", c, got, want)
		}
		if !reflect.DeepEqual(field(sm, "spec", "selector", "matchLabels"), field(svc, "metadata", "labels")) {
			t.Errorf("%s: ServiceMonitor selects %v, the Service has %v", c, field(sm, "spec", "selector", "matchLabels"), field(svc, "metadata", "labels"))
		}
		for _, f := range []struct {
			path []string
			want any
		}{
			{[]string{"port"}, "https-metrics"},
			{[]string{"scheme"}, "https"},
			{[]string{"bearerTokenFile"}, "/var/run/secrets/kubernetes.io/serviceaccount/token"},
			{[]string{"relabelings", "0", "targetLabel"}, "job"},
			{[]string{"relabelings", "0", "replacement"}, "herald-" + c},
			{[]string{"relabelings", "1", "targetLabel"}, "node"},
		} {
			if got := field(sm, append([]string{"spec", "endpoints", "0"}, f.path...)...); got != f.want {
				t.Errorf("%s: ServiceMonitor endpoint %v = %v, want %v", c, f.path, got, f.want)
			}
		}
	}
}

func containerPort(workload map[string]any, name string) any {
	cs, _ := field(workload, "spec", "template", "spec", "containers").([]any)
	for _, c := range cs {
		ps, _ := field(c, "ports").([]any)
		for _, p := range ps {
			if field(p, "name") == name {
				return field(p, "containerPort")
			}
		}
	}
	return nil
}
