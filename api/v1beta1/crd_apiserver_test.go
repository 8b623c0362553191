package v1beta1_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}, &env) }

// readObjects decodes every YAML document in a file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("decode %s: %v", path, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	return objs
}

// expectations reads the "# expect: …" lines of an invalid object's file:
// every one must appear in the apiserver's rejection.
func expectations(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "# expect: "); ok {
			want = append(want, strings.TrimSpace(rest))
		}
	}
	return want
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSamplesAreAccepted(t *testing.T) {
	testenv.Require(t, env)
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("want at least 3 samples in config/samples, found %d", len(files))
	}
	ensureNamespace(t, "herald-system")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, o := range readObjects(t, f) {
				if err := env.Client.Create(ctx(t), o, client.DryRunAll); err != nil {
					t.Errorf("%s %s rejected: %v", o.GetKind(), o.GetName(), err)
				}
			}
		})
	}
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(ctx(t), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func TestInvalidObjectsAreRejected(t *testing.T) {
	testenv.Require(t, env)
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if len(files) < 20 {
		t.Fatalf("want at least 20 invalid objects, found %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			want := expectations(t, f)
			if len(want) == 0 {
				t.Fatalf("%s has no '# expect:' line", f)
			}
			objs := readObjects(t, f)
			if len(objs) != 1 {
				t.Fatalf("%s holds %d objects, want 1", f, len(objs))
			}
			err := env.Client.Create(ctx(t), objs[0], client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted, want a rejection containing %q", want)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("rejection\n  %v\ndoes not contain\n  %q", err, w)
				}
			}
		})
	}
}

// TestMetalLBObjectsAreAccepted creates, with strict field validation,
// objects written as MetalLB users write them (testdata/metallb): a
// configuration MetalLB accepts must not be refused by a stricter parser.
func TestMetalLBObjectsAreAccepted(t *testing.T) {
	testenv.Require(t, env)
	files, _ := filepath.Glob(filepath.Join("testdata", "metallb", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("want at least 3 files in testdata/metallb, found %d", len(files))
	}
	n := 0
	for _, f := range files {
		for _, o := range readObjects(t, f) {
			n++
			t.Run(o.GetKind()+"/"+o.GetName(), func(t *testing.T) {
				if err := env.Client.Create(ctx(t), o, client.DryRunAll, client.FieldValidation("Strict")); err != nil {
					t.Errorf("refused: %v", err)
				}
			})
		}
	}
	if n < 10 {
		t.Errorf("only %d MetalLB objects", n)
	}
}

// TestGracefulRestartIsImmutable: as in MetalLB, enableGracefulRestart
// cannot change once set, since the session would have to be reset.
func TestGracefulRestartIsImmutable(t *testing.T) {
	testenv.Require(t, env)
	peer := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "heraldlb.io/v1beta1", "kind": "BGPPeer",
		"metadata": map[string]any{"name": "gr-immutable"},
		"spec":     map[string]any{"myASN": int64(64512), "peerASN": int64(64513), "peerAddress": "198.51.100.1", "enableGracefulRestart": true},
	}}
	if err := env.Client.Create(ctx(t), peer); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), peer) })
	if err := unstructured.SetNestedField(peer.Object, false, "spec", "enableGracefulRestart"); err != nil {
		t.Fatal(err)
	}
	err := env.Client.Update(ctx(t), peer)
	if err == nil || !strings.Contains(err.Error(), "enableGracefulRestart cannot be changed") {
		t.Errorf("update of enableGracefulRestart = %v, want a rejection", err)
	}
}
