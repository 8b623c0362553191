package ipam

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps ipam pure: no Kubernetes packages anywhere in its
// dependencies, and no sockets, files or processes among its own imports.
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
		if strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/") {
			t.Errorf("ipam depends on %s", dep)
		}
	}
	out, err = exec.Command(goBin, "list", "-f", "{{.Doc}}\n{{join .Imports \"\\n\"}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	doc, imports, _ := strings.Cut(string(out), "\n")
	if doc != "Package ipam allocates load-balancer IPs from pools." {
		t.Errorf("package doc = %q", doc)
	}
	forbidden := []string{"net", "net/http", "os", "os/exec", "io/ioutil", "syscall", "unsafe", "time", "math/rand", "math/rand/v2", "log", "log/slog"}
	for _, imp := range strings.Fields(imports) {
		for _, f := range forbidden {
			if imp == f {
				t.Errorf("ipam imports %s", imp)
			}
		}
	}
}
