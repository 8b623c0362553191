package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestMetricsNeedAuthorization: the speaker's manager, running as the
// speaker's ServiceAccount with config/rbac/speaker.yaml's rights, serves
// its metrics over HTTPS only to a caller that may get /metrics
// (herald-metrics-reader), as the controller does.
func TestMetricsNeedAuthorization(t *testing.T) {
	env := testenv.StartForTest(t, testenv.Options{})
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	reader, nobody := seedMetricsRBAC(t, env, cs)
	speakerToken, err := testenv.Token(ctx, cs, kube.Namespace, "herald-speaker")
	if err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	fs := flag.NewFlagSet("speaker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := register(fs)
	if err := fs.Parse([]string{"--metrics-bind-address=" + addr, "--health-probe-bind-address=0"}); err != nil {
		t.Fatal(err)
	}
	mgr, err := newManager(testenv.AsToken(env.Config, speakerToken), *f)
	if err != nil {
		t.Fatal(err)
	}
	testenv.RunManager(t, mgr)

	url := "https://" + addr + "/metrics"
	testenv.Eventually(t, 30*time.Second, func() error {
		if code, _, err := testenv.Status(ctx, url, reader); err != nil || code != http.StatusOK {
			return fmt.Errorf("metrics not served yet: %d, %v", code, err)
		}
		return nil
	})
	if body := testenv.CheckMetricsAccess(t, url, reader, nobody); !strings.Contains(body, "# TYPE") {
		t.Errorf("the reader was served no metrics: %.200q", body)
	}
}

// seedMetricsRBAC creates Herald's namespace, the speaker's RBAC and
// herald-metrics-reader, and returns the tokens of testenv.MetricsTokens.
func seedMetricsRBAC(t *testing.T, env *testenv.Env, cs kubernetes.Interface) (reader, nobody string) {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rbac := filepath.Join(testenv.RepoRoot(), "config", "rbac")
	if err := testenv.ApplyFile(ctx, env.Client, filepath.Join(rbac, "speaker.yaml"), nil); err != nil {
		t.Fatal(err)
	}
	isReaderRole := func(u *unstructured.Unstructured) bool { return u.GetName() == "herald-metrics-reader" }
	if err := testenv.ApplyFile(ctx, env.Client, filepath.Join(rbac, "controller.yaml"), isReaderRole); err != nil {
		t.Fatal(err)
	}
	reader, nobody, err := testenv.MetricsTokens(ctx, cs, kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return reader, nobody
}
