package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldlb/herald/internal/testenv"
)

// startControlPlane starts etcd and kube-apiserver serving on the root end
// of the apiserver link, with Herald's CRDs installed, and writes the
// kubeconfig into the state directory.
func startControlPlane() (*testenv.Env, error) {
	env, err := testenv.Start(testenv.Options{
		ListenAddress:   APIServerAddr.String(),
		ClusterIPRanges: ClusterIPRange4.String() + "," + ClusterIPRange6.String(),
	})
	if err != nil {
		return nil, err
	}
	// envtest removes these on Stop; after a crash, cleanup does.
	if err := os.WriteFile(tmpDirsFile, []byte(strings.Join(env.TempDirs(), "\n")+"\n"), 0o644); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("record control plane dirs: %w", err)
	}
	data, err := os.ReadFile(env.Kubeconfig)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	env.Kubeconfig = filepath.Join(StateDir, "kubeconfig")
	if err := os.WriteFile(env.Kubeconfig, data, 0o600); err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return env, nil
}
