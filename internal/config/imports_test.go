package config

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps config pure: no client, no controller-runtime, no I/O.
func TestImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "k8s.io/client-go") || strings.HasPrefix(dep, "sigs.k8s.io/controller-runtime") {
			t.Errorf("config depends on %s", dep)
		}
	}
	out, err = exec.Command(goBin, "list", "-f", "{{join .Imports \"\\n\"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		switch imp {
		case "net", "net/http", "os", "os/exec", "syscall", "time", "math/rand", "math/rand/v2", "log":
			t.Errorf("config imports %s", imp)
		}
	}
}
