package coretest

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/heraldlb/herald"

// pureCore lists the packages that hold decisions: allocation,
// configuration, Layer 2 election and the speaker's plan. Each entry says
// which dependencies, anywhere below the package, are forbidden.
var pureCore = map[string][]string{
	// ipam is plain Go over netip: nothing of Kubernetes at all.
	"internal/ipam": {"k8s.io/", "sigs.k8s.io/"},
	// config reads API types and label selectors, but never talks to an
	// apiserver.
	"internal/config": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
	// election is plain Go: names, addresses and times in, a verdict out.
	"internal/election": {"k8s.io/", "sigs.k8s.io/"},
	// plan reads Service, EndpointSlice and Node types, never a client.
	"internal/plan": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
	// linkfilter is plain Go: interface names and flags in, a verdict out.
	"internal/linkfilter": {"k8s.io/", "sigs.k8s.io/"},
	// migrate turns MetalLB objects into Herald's; the CLI reads and writes.
	"internal/migrate": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
	// explain reasons over objects the CLI has read.
	"internal/explain": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
	// status sums up objects the CLI has read.
	"internal/status": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
	// announcement sums up HeraldNodes for a Service; the reconciler writes.
	"internal/announcement": {"k8s.io/client-go", "sigs.k8s.io/controller-runtime"},
}

// shells lists, for each program's shell, the other program's packages it
// must never depend on: what both need lives in internal/kube.
var shells = map[string][]string{
	"controller":         {module + "/speaker", module + "/internal/speaker"},
	"internal/reconcile": {module + "/speaker", module + "/internal/speaker"},
	"speaker":            {module + "/controller", module + "/internal/reconcile"},
	"internal/speaker":   {module + "/controller", module + "/internal/reconcile"},
}

// ioImports are packages the pure core must not import directly: sockets,
// files, processes, randomness and global loggers. Package time is allowed
// for its types (a Time or a Duration passed in), but not its clock: see
// clockCalls.
var ioImports = []string{"net", "net/http", "os", "os/exec", "io/ioutil", "syscall", "unsafe", "math/rand", "math/rand/v2", "log", "log/slog"}

// clockCalls are the functions of package time that read or wait on the
// wall clock. The pure core gets times from its caller instead.
var clockCalls = []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"}

type pkg struct {
	Dir        string
	GoFiles    []string
	ImportPath string
	Doc        string
	Imports    []string
	Deps       []string
	Name       string
}

func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to read package metadata: %v", err)
	}
	out, err := exec.Command(goBin, append([]string{"list", "-json", "-deps=false"}, patterns...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestPureCoreImports(t *testing.T) {
	for rel, forbidden := range pureCore {
		for _, p := range list(t, module+"/"+rel) {
			for _, dep := range p.Deps {
				for _, f := range forbidden {
					if strings.HasPrefix(dep, f) {
						t.Errorf("%s depends on %s", rel, dep)
					}
				}
			}
			for _, imp := range p.Imports {
				for _, f := range ioImports {
					if imp == f {
						t.Errorf("%s imports %s", rel, imp)
					}
				}
			}
		}
	}
}

func TestPureCoreReadsNoClock(t *testing.T) {
	for rel := range pureCore {
		for _, p := range list(t, module+"/"+rel) {
			fset := token.NewFileSet()
			for _, f := range p.GoFiles {
				file, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				timePkg := ""
				for _, imp := range file.Imports {
					if imp.Path.Value == `"time"` {
						timePkg = "time"
						if imp.Name != nil {
							timePkg = imp.Name.Name
						}
					}
				}
				if timePkg == "" {
					continue
				}
				ast.Inspect(file, func(n ast.Node) bool {
					sel, ok := n.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == timePkg && slices.Contains(clockCalls, sel.Sel.Name) {
						t.Errorf("%s: %s reads the wall clock (time.%s); take the time as an argument", rel, fset.Position(sel.Pos()), sel.Sel.Name)
					}
					return true
				})
			}
		}
	}
}

func TestShellsStayApart(t *testing.T) {
	for rel, forbidden := range shells {
		for _, p := range list(t, module+"/"+rel) {
			for _, dep := range p.Deps {
				if slices.Contains(forbidden, dep) {
					t.Errorf("%s depends on %s: move what both need to internal/kube", rel, dep)
				}
			}
		}
	}
}

func TestEveryPackageHasADoc(t *testing.T) {
	for _, p := range list(t, module+"/...") {
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		if !strings.HasPrefix(p.Doc, want) {
			t.Errorf("%s: package doc %q does not start with %q", p.ImportPath, p.Doc, want)
		}
	}
}
