package prometheus

import (
	"os"
	"slices"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestKustomizationBuilds builds this directory as `kubectl apply -k`
// would, and checks that it yields every object, the dashboard among them
// as the ConfigMap Grafana's sidecar loads.
func TestKustomizationBuilds(t *testing.T) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	var got []string
	for _, r := range res.Resources() {
		got = append(got, r.GetKind()+"/"+r.GetName())
		if r.GetLabels()["app.kubernetes.io/part-of"] != "herald" {
			t.Errorf("%s/%s: no app.kubernetes.io/part-of label", r.GetKind(), r.GetName())
		}
	}
	slices.Sort(got)
	want := []string{"ConfigMap/herald-dashboard", "PrometheusRule/herald", "Service/herald-controller-metrics",
		"Service/herald-speaker-metrics", "ServiceMonitor/herald-controller", "ServiceMonitor/herald-speaker"}
	if !slices.Equal(got, want) {
		t.Errorf("objects %v, want %v", got, want)
	}
	i := slices.IndexFunc(res.Resources(), func(r *resource.Resource) bool { return r.GetKind() == "ConfigMap" })
	if i < 0 {
		t.Fatal("no ConfigMap")
	}
	cm := res.Resources()[i]
	dash, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if cm.GetDataMap()["herald.json"] != string(dash) {
		t.Error("ConfigMap herald-dashboard: herald.json is not dashboard.json")
	}
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Error("ConfigMap herald-dashboard: no grafana_dashboard label for the sidecar")
	}
}
