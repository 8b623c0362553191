package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// The package's control plane and what every test shares.
var (
	env *testenv.Env
	// cs is an admin clientset, fast enough for bursts of creates.
	cs kubernetes.Interface
	// controllerBin is ./controller, built once for the package.
	controllerBin string
	// controllerKubeconfig authenticates as the herald-controller
	// ServiceAccount, under the RBAC of config/rbac/controller.yaml.
	controllerKubeconfig string
	// readerToken may get /metrics; nobodyToken may not.
	readerToken, nobodyToken string
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	e, err := testenv.Start(testenv.Options{
		// The chaos run needs about 100 IPv4 and 1,000 IPv6 cluster IPs.
		ClusterIPRanges: "203.0.113.128/25,2001:db8:ffff::/108",
	})
	switch {
	case errors.Is(err, testenv.ErrNotBuilt) && os.Getenv("CI") != "true":
		fmt.Fprintln(os.Stderr, "skipping fault tests:", err)
		return m.Run()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env = e
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
		}
	}()
	dir, err := os.MkdirTemp("", "herald-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := setup(dir); err != nil {
		fmt.Fprintln(os.Stderr, "set up fault tests:", err)
		return 1
	}
	return m.Run()
}

func setup(dir string) error {
	controllerBin = filepath.Join(dir, "controller")
	build := exec.Command("go", "build", "-o", controllerBin, "./controller")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build controller: %w\n%s", err, out)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	var err error
	if cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ensureNamespace(ctx, kube.Namespace); err != nil {
		return err
	}
	if err := testenv.ApplyFile(ctx, env.Client, filepath.Join(testenv.RepoRoot(), "config", "rbac", "controller.yaml"), nil); err != nil {
		return err
	}
	if readerToken, nobodyToken, err = testenv.MetricsTokens(ctx, cs, kube.Namespace); err != nil {
		return err
	}
	controllerToken, err := testenv.Token(ctx, cs, kube.Namespace, "herald-controller")
	if err != nil {
		return err
	}
	controllerKubeconfig = filepath.Join(dir, "controller.kubeconfig")
	return writeKubeconfig(controllerKubeconfig, controllerToken)
}

func ensureNamespace(ctx context.Context, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// token returns a two-hour token for a ServiceAccount of herald-system.

func writeKubeconfig(path, tok string) error {
	c := clientcmdapi.NewConfig()
	c.Clusters["testenv"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	c.AuthInfos["herald-controller"] = &clientcmdapi.AuthInfo{Token: tok}
	c.Contexts["herald-controller"] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: "herald-controller"}
	c.CurrentContext = "herald-controller"
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// eventually polls f until it returns nil (see testenv.Eventually).
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, f)
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ensureNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// deleteServices deletes every Service of ns and waits until they are gone.
func deleteServices(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(ns)); err != nil {
		t.Errorf("delete services of %s: %v", ns, err)
		return
	}
	eventually(t, 2*time.Minute, func() error {
		list, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if n := len(list.Items); n > 0 {
			return fmt.Errorf("%d services of %s left", n, ns)
		}
		return nil
	})
}

// logTail returns the last lines of a file, for failure messages.
func logTail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
