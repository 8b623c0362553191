// Package testenv runs a real etcd and kube-apiserver for tests, with
// Herald's CRDs installed. The binaries are built from source at pinned
// versions by internal/tools/kube/build.sh and cached per machine.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	heraldv1beta1 "github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
)

// ErrNotBuilt means the apiserver build is not in the cache yet.
var ErrNotBuilt = errors.New("kube-apiserver and etcd are not built yet: run `make kube-bins` (about 8 minutes once per machine) or `make test`")

// RepoRoot is the root of the Herald source tree this package was built from.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BinDir returns the directory holding kube-apiserver, etcd and kubectl. It
// honours HERALD_KUBE_BIN, and otherwise asks the build script for its cache
// without building.
func BinDir() (string, error) {
	if dir := os.Getenv("HERALD_KUBE_BIN"); dir != "" {
		return dir, nil
	}
	script := filepath.Join(RepoRoot(), "internal", "tools", "kube", "build.sh")
	out, err := exec.Command("bash", script, "--check").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return "", ErrNotBuilt
		}
		return "", fmt.Errorf("find the apiserver build: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Options tune the control plane.
type Options struct {
	// ListenAddress is the address the apiserver serves on, on a free port;
	// it is also put in its serving certificate. Default 127.0.0.1.
	ListenAddress string
	// ClusterIPRanges is the service-cluster-ip-range. Cluster IPs are only
	// allocated, never routed (no kube-proxy runs), but they still come from
	// documentation ranges by default.
	ClusterIPRanges string
	// APIServerFlags are extra kube-apiserver flags, such as
	// service-node-port-range.
	APIServerFlags map[string]string
}

// DefaultClusterIPRanges hold 256 IPv4 and 4096 IPv6 cluster IPs.
const DefaultClusterIPRanges = "198.51.100.0/24,2001:db8:ffff::/116"

func freePort(addr string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", addr, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Env is a running control plane.
type Env struct {
	Config *rest.Config
	Client client.Client
	// Kubeconfig is the path of a kubeconfig file for an admin user.
	Kubeconfig string
	// BinDir holds kube-apiserver, etcd and kubectl.
	BinDir string

	env *envtest.Environment
	// restClient checks readiness after an outage.
	restClient rest.Interface
	// restarted are the servers Outage started again; wrapDir holds the
	// parent-death wrappers.
	restarted []*exec.Cmd
	wrapDir   string
}

// Start starts etcd and kube-apiserver and installs the CRDs in
// config/crd/bases. Stop it with Stop.
func Start(opts Options) (*Env, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	scheme, err := kube.Scheme()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: bin,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	wrapDir, wrappers, err := deathWrappers(bin)
	if err != nil {
		return nil, err
	}
	useDeathWrappers(env, wrappers)
	api := env.ControlPlane.GetAPIServer()
	if opts.ListenAddress != "" {
		// envtest replaces an address given without a port by 127.0.0.1.
		port, err := freePort(opts.ListenAddress)
		if err != nil {
			return nil, err
		}
		api.SecureServing.ListenAddr.Address = opts.ListenAddress
		api.SecureServing.ListenAddr.Port = strconv.Itoa(port)
	}
	if opts.ClusterIPRanges == "" {
		opts.ClusterIPRanges = DefaultClusterIPRanges
	}
	args := api.Configure()
	args.Set("service-cluster-ip-range", opts.ClusterIPRanges)
	args.Set("service-node-port-range", "30000-32767")
	for k, v := range opts.APIServerFlags {
		args.Set(k, v)
	}
	cfg, err := env.Start()
	if err != nil {
		// envtest leaves etcd and the apiserver running when, say, a CRD
		// is refused: stop them, or they outlive the test.
		err = errors.Join(fmt.Errorf("start apiserver and etcd from %s: %w", bin, err), env.Stop(), os.RemoveAll(wrapDir))
		return nil, err
	}
	e := &Env{Config: cfg, BinDir: bin, env: env, wrapDir: wrapDir}
	if e.Client, err = client.New(cfg, client.Options{Scheme: env.Scheme}); err != nil {
		return nil, errors.Join(fmt.Errorf("client: %w", err), e.Stop())
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("clientset: %w", err), e.Stop())
	}
	e.restClient = cs.Discovery().RESTClient()
	if e.Kubeconfig, err = e.writeKubeconfig(); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

func (e *Env) writeKubeconfig() (string, error) {
	path, _, err := e.AddAdmin("herald-admin")
	return path, err
}

// AddAdmin adds a cluster-admin user with its own name, so that what it does
// can be told apart in audit logs, and writes a kubeconfig file for it.
func (e *Env) AddAdmin(name string) (kubeconfig string, cfg *rest.Config, err error) {
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", nil, fmt.Errorf("add user %s: %w", name, err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", nil, fmt.Errorf("render kubeconfig for %s: %w", name, err)
	}
	path := filepath.Join(e.env.ControlPlane.APIServer.CertDir, name+".kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return path, user.Config(), nil
}

// Stop stops the apiserver and etcd and removes their data.
func (e *Env) Stop() error {
	err := errors.Join(e.stopRestarted(), e.env.Stop())
	if e.wrapDir != "" {
		err = errors.Join(err, os.RemoveAll(e.wrapDir))
	}
	return err
}

// TempDirs are the directories the control plane writes to; Stop removes
// them, and a caller that may crash can record them to remove them later.
func (e *Env) TempDirs() []string {
	return []string{e.env.ControlPlane.APIServer.CertDir, e.env.ControlPlane.Etcd.DataDir}
}

// Kubectl runs the cached kubectl against this control plane.
func (e *Env) Kubectl(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(e.BinDir, "kubectl"), append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	return cmd
}

// GVK returns the group, version and kind of a Herald kind.
func GVK(kind string) schema.GroupVersionKind { return heraldv1beta1.GroupVersion.WithKind(kind) }

// StartForTest starts a control plane for one test package or test, and stops
// it at cleanup. When the build is missing it skips, except under CI=true where
// a missing dependency is a failure.
func StartForTest(tb testing.TB, opts Options) *Env {
	tb.Helper()
	e, err := Start(opts)
	if errors.Is(err, ErrNotBuilt) && os.Getenv("CI") != "true" {
		tb.Skip(err.Error())
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := e.Stop(); err != nil {
			tb.Errorf("stop control plane: %v", err)
		}
	})
	return e
}

// Main is for TestMain: it starts one control plane for the package, runs the
// tests, and stops it. When the build is missing, it prints how to get it and
// runs the tests with a nil Env (they skip), except under CI=true where it
// fails.
func Main(m *testing.M, opts Options, env **Env) {
	e, err := Start(opts)
	switch {
	case errors.Is(err, ErrNotBuilt) && os.Getenv("CI") != "true":
		fmt.Fprintln(os.Stderr, "skipping apiserver tests:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*env = e
	code := m.Run()
	if e != nil {
		if err := e.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
		}
	}
	os.Exit(code)
}

// Require skips the test when the package's control plane could not start
// because the build is missing (Main has already failed under CI).
func Require(tb testing.TB, e *Env) {
	tb.Helper()
	if e == nil {
		tb.Skip(ErrNotBuilt.Error())
	}
}

// Eventually calls f every 50 ms until it returns nil, and fails the test
// with f's last error once timeout has passed. It is the one polling helper
// of Herald's tests: they wait for a positive signal with it, never for a
// fixed time. Call it from the test's own goroutine only.
func Eventually(tb testing.TB, timeout time.Duration, f func() error) {
	tb.Helper()
	last := errors.New("never checked")
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		tb.Fatalf("after %v: %v", timeout, last)
	}
}
