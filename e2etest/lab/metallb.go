package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldlb/herald/internal/testenv"
)

// MetalLBNamespace is where MetalLB's configuration lives in the lab, as a
// MetalLB install puts it.
const MetalLBNamespace = "metallb-system"

// InstallMetalLB applies MetalLB's own CRDs and a MetalLB IPAddressPool
// named pool, of addrs, with an L2Advertisement on iface: the configuration
// of a cluster that MetalLB serves in Layer 2 mode before a migration.
func (l *Lab) InstallMetalLB(ctx context.Context, pool string, addrs []string, iface string) error {
	crds, err := testenv.MetalLBTool(ctx, "--crds")
	if err != nil {
		return err
	}
	if _, err := l.kubectl(ctx, "apply", "--server-side", "-f", crds); err != nil {
		return err
	}
	if _, err := l.kubectl(ctx, "wait", "--for=condition=Established", "--timeout=30s",
		"crd/ipaddresspools.metallb.io", "crd/l2advertisements.metallb.io"); err != nil {
		return err
	}
	objs := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  addresses: [%[3]s]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: %[2]s
  namespace: %[1]s
spec:
  ipAddressPools: [%[2]s]
  interfaces: [%[4]s]
`, MetalLBNamespace, pool, strings.Join(addrs, ", "), iface)
	// MetalLB's speaker reads its own Pod at start-up; the lab's speakers
	// are processes, so each gets a Pod object bound to its node that no
	// kubelet runs.
	for _, n := range l.Nodes {
		objs += fmt.Sprintf(`---
apiVersion: v1
kind: Pod
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {app: metallb, component: speaker}
spec:
  nodeName: %[3]s
  containers:
  - name: speaker
    image: quay.io/metallb/speaker:v0.15.2
`, MetalLBNamespace, metallbPod(n), n.Name)
	}
	path := filepath.Join(StateDir, "metallb-config.yaml")
	if err := os.WriteFile(path, []byte(objs), 0o644); err != nil {
		return fmt.Errorf("write MetalLB's configuration: %w", err)
	}
	_, err = l.kubectl(ctx, "apply", "--server-side", "-f", path)
	return err
}

// StartMetalLBSpeakers starts MetalLB's speaker in every node's namespace,
// beside Herald's, with memberlist off: MetalLB then counts every node as a
// candidate, which in the lab, where every node runs a speaker, elects as
// memberlist would. Its metrics port is moved off Herald's.
func (l *Lab) StartMetalLBSpeakers(ctx context.Context) ([]*Proc, error) {
	bin, err := testenv.MetalLBTool(ctx)
	if err != nil {
		return nil, err
	}
	var procs []*Proc
	for _, n := range l.Nodes {
		p, err := startProc("metallb-speaker-"+n.Name, n.Netns, []string{"KUBECONFIG=" + l.Kubeconfig},
			bin, "--node-name="+n.Name, "--pod-name="+metallbPod(n), "--namespace="+MetalLBNamespace, "--host=127.0.0.1", "--port=17472", "--log-level=info")
		if err != nil {
			StopAll(procs, time.Second)
			return nil, fmt.Errorf("start MetalLB's speaker on %s: %w", n.Name, err)
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// metallbPod names the Pod object of node n's MetalLB speaker.
func metallbPod(n Node) string { return "speaker-" + n.Name }

// StopAll sends SIGTERM to every process at once, and SIGKILL to those still
// running after grace.
func StopAll(procs []*Proc, grace time.Duration) {
	done := make(chan struct{})
	for _, p := range procs {
		go func() {
			p.Stop(grace)
			done <- struct{}{}
		}()
	}
	for range procs {
		<-done
	}
}
