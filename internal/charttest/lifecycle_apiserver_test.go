package charttest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestInstallUpgradeUninstallKeepsCRDs runs helm install, upgrade and
// uninstall against the real apiserver, as the helm CLI does, and checks
// that the CRDs, and the pool a user created, outlive all three: a chart
// that deletes its CRDs deletes every pool with them.
func TestInstallUpgradeUninstallKeepsCRDs(t *testing.T) {
	testenv.Require(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	removeCRDs(ctx, t) // testenv installed them; helm must do it from crds/
	cfg := helmConfig(t, "herald-helm")
	c := loadChart(t)

	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = "herald", "herald-helm", true
	in.WaitStrategy, in.Timeout = kube.HookOnlyStrategy, time.Minute
	if _, err := in.RunWithContext(ctx, c, nil); err != nil {
		t.Fatalf("helm install: %v", err)
	}
	wantCRDs(ctx, t, "after install")
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "kept"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.224/28"}}}
	if err := env.Client.Create(ctx, pool); err != nil {
		t.Fatal(err)
	}

	up := action.NewUpgrade(cfg)
	up.Namespace, up.WaitStrategy, up.Timeout = "herald-helm", kube.HookOnlyStrategy, time.Minute
	if _, err := up.RunWithContext(ctx, "herald", c, map[string]any{"logLevel": "debug"}); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	wantCRDs(ctx, t, "after upgrade")

	un := action.NewUninstall(cfg)
	un.WaitStrategy, un.Timeout = kube.HookOnlyStrategy, time.Minute
	if _, err := un.Run("herald"); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	wantCRDs(ctx, t, "after uninstall")
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pool), pool); err != nil || pool.DeletionTimestamp != nil {
		t.Errorf("pool %q after uninstall: %v, deleted at %v", pool.Name, err, pool.DeletionTimestamp)
	}
}

func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &env.Kubeconfig, &ns
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil)).Handler())
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func removeCRDs(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, f := range loadChart(t).CRDObjects() {
		name := crdName(t, f.File.Data)
		if err := crdClient().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		testenv.Eventually(t, time.Minute, func() error {
			_, err := crdClient().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("CRD %s still there (%v)", name, err)
		})
	}
}

// wantCRDs fails unless every CRD of the chart exists and is established.
func wantCRDs(ctx context.Context, t *testing.T, when string) {
	t.Helper()
	if err := chartCRDsEstablished(ctx, t); err != nil {
		t.Errorf("%s: %v", when, err)
	}
}

func crdName(t *testing.T, data []byte) string {
	t.Helper()
	var m metav1.PartialObjectMetadata
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Name
}
