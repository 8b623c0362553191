package bgp

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoKubernetesImports keeps the adapter free of Kubernetes: of
// k8s.io, only the clock interfaces may be linked in, anywhere below the
// package.
func TestNoKubernetesImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		k8s := strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/")
		if k8s && dep != "k8s.io/utils/clock" {
			t.Errorf("depends on %s", dep)
		}
	}
}
