package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
	"github.com/heraldlb/herald/internal/reconcile"
	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

// The cluster IPs of 500 Services need more than an IPv4 documentation /24:
// the IPv6-only Services take their cluster IP from the secondary range,
// and only 200 Services an IPv4 one.
func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	testenv.Main(m, testenv.Options{ClusterIPRanges: "198.51.100.0/24,2001:db8:ffff::/112"}, &env)
}

// metallbConfig is a MetalLB configuration as its documentation writes it:
// three pools, both advertisement kinds, a peer with a password Secret and
// a BFD profile, and community aliases.
const metallbConfig = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: v4, namespace: metallb-system}
spec: {addresses: [203.0.113.0/25]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: dual, namespace: metallb-system}
spec: {addresses: [203.0.113.128/25, "2001:db8:6::/120"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: v6, namespace: metallb-system}
spec: {addresses: ["2001:db8:5::/116"], avoidBuggyIPs: true}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [v4, v6], interfaces: [eth0]}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: aliases, namespace: metallb-system}
spec: {communities: [{name: no-advertise, value: "65535:65282"}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec: {ipAddressPools: [dual], communities: [no-advertise], localPref: 50}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 50, transmitInterval: 50}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.1, bfdProfile: fast, passwordSecret: {name: bgp-md5, namespace: metallb-system}}
`

// installMetalLB applies MetalLB's own CRDs and configuration.
func installMetalLB(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	crds, err := testenv.MetalLBTool(ctx, "--crds")
	if err != nil {
		t.Fatal(err)
	}
	checkFieldList(t, crds)
	if out, err := env.Kubectl("apply", "--server-side", "-f", loosenASNs(t, crds)).CombinedOutput(); err != nil {
		t.Fatalf("install MetalLB's CRDs: %v: %s", err, out)
	}
	if out, err := env.Kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/ipaddresspools.metallb.io", "crd/bgppeers.metallb.io").CombinedOutput(); err != nil {
		t.Fatalf("wait for MetalLB's CRDs: %v: %s", err, out)
	}
	for _, ns := range []string{"metallb-system", "herald-system", "apps"} {
		// Other tests of the package share the apiserver, and herald-system.
		if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "bgp-md5"}, Type: corev1.SecretTypeBasicAuth, StringData: map[string]string{"password": "s3cret"}}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(metallbConfig, "\n---\n") {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Create(ctx, &u); err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// int32ASN is how MetalLB v0.15.2's CRDs declare an ASN: format int32 with
// a maximum of 2^32-1. kube-apiserver 1.37 refuses every object of such a
// schema ("Maximum boundary value must be of type integer with format
// int32"), so a BGPPeer could not be created at all.
var int32ASN = regexp.MustCompile(`format: int32\n(\s+)maximum: 4294967295`)

// loosenASNs copies MetalLB's CRDs from dir, dropping the format of the
// ASN fields (the range stays), and returns the copy's directory.
func loosenASNs(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = int32ASN.ReplaceAll(data, []byte("maximum: 4294967295"))
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// metallbService is the i-th of the Services MetalLB served: 100 IPv4, 100
// dual-stack and 300 IPv6, with MetalLB's annotations of both prefixes,
// requested IPs, and pairs that share an IP.
func metallbService(i int) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: fmt.Sprintf("s%03d", i), Annotations: map[string]string{}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	var ips []string
	pool := "v6"
	switch {
	case i%5 == 0:
		pool, ips = "v4", []string{nth("203.0.113.0", 1+i/5)}
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		svc.Annotations["metallb.universe.tf/address-pool"] = pool
	case i%5 == 1:
		pool, ips = "dual", []string{nth("203.0.113.128", 1+i/5), nth("2001:db8:6::", 1+i/5)}
		svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		svc.Annotations["metallb.io/address-pool"] = pool
	default:
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
		j := i
		if i%10 == 3 { // shares the IP of Service i-1
			j = i - 1
			svc.Spec.Ports[0].Port = 443
		}
		ips = []string{nth("2001:db8:5::", 1+j)}
		if i%10 == 2 || i%10 == 3 {
			svc.Annotations["metallb.io/allow-shared-ip"] = fmt.Sprintf("pair-%d", j)
		}
		if i%10 == 4 {
			svc.Annotations["metallb.universe.tf/loadBalancerIPs"] = ips[0]
		}
	}
	svc.Annotations["metallb.io/ip-allocated-from-pool"] = pool
	for _, ip := range ips {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return svc
}

// nth is the address n after base.
func nth(base string, n int) string {
	ip := netip.MustParseAddr(base)
	for range n {
		ip = ip.Next()
	}
	return ip.String()
}

// createServices creates the Services with the IPs MetalLB gave them.
func createServices(t *testing.T, n int) map[string][]string {
	t.Helper()
	ctx := context.Background()
	want := map[string][]string{}
	for i := range n {
		svc := metallbService(i)
		status := svc.Status
		if err := env.Client.Create(ctx, svc); err != nil {
			t.Fatalf("create %s: %v", svc.Name, err)
		}
		svc.Status = status
		if err := env.Client.Status().Update(ctx, svc); err != nil {
			t.Fatalf("status of %s: %v", svc.Name, err)
		}
		want[svc.Name] = ingress(svc)
	}
	return want
}

func ingress(svc *corev1.Service) []string {
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out
}

func flagsFor() *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(false)
	f.KubeConfig = ptr.To(env.Kubeconfig)
	return f
}

// TestMigrateFromMetalLB migrates 500 Services and MetalLB's configuration:
// a dry run changes nothing and says what it would do; the migration
// creates Herald's objects; and Herald's controller, started on the
// result, adopts every Service with 0 IPs moved.
func TestMigrateFromMetalLB(t *testing.T) {
	testenv.Require(t, env)
	// Last, after the controller has stopped: the migration's pools would
	// otherwise overlap the pools of the tests that share this apiserver.
	t.Cleanup(func() { deleteHeraldConfig(t) })
	installMetalLB(t)
	const n = 500
	want := createServices(t, n)
	ctx := context.Background()

	var dry bytes.Buffer
	if err := RunMigrate(ctx, flagsFor(), MigrateOptions{Namespace: "metallb-system", DryRun: true}, &dry); err != nil {
		t.Fatalf("dry run: %v\n%s", err, dry.String())
	}
	checkDryRun(t, dry.String(), n)

	var out bytes.Buffer
	if err := RunMigrate(ctx, flagsFor(), MigrateOptions{Namespace: "metallb-system", HoldAdvertisements: true}, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	var l2 v1beta1.L2AdvertisementList
	if err := env.Client.List(ctx, &l2); err != nil || len(l2.Items) != 0 || !strings.Contains(out.String(), "held back: L2Advertisement/l2") {
		t.Errorf("advertisements not held back: %d, %v\n%s", len(l2.Items), err, out.String())
	}
	// The runbook's order: Herald's controller adopts the Services while
	// MetalLB's speakers still announce, then the advertisements switch
	// announcing over.
	start := time.Now()
	startController(t)
	testenv.Eventually(t, 2*time.Minute, func() error { return adopted(ctx, want) })
	t.Logf("Herald's controller adopted %d Services in %v, 0 IPs moved", n, time.Since(start).Round(time.Millisecond))
	if err := RunMigrate(ctx, flagsFor(), MigrateOptions{Namespace: "metallb-system"}, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	var peer v1beta1.BGPPeer
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "tor"}, &peer); err != nil || peer.Spec.PasswordSecret.Namespace != "herald-system" {
		t.Errorf("peer %+v, %v: want its Secret in herald-system", peer.Spec, err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "herald-system", Name: "bgp-md5"}, &corev1.Secret{}); err != nil {
		t.Errorf("Secret not copied: %v", err)
	}
	var again bytes.Buffer
	if err := RunMigrate(ctx, flagsFor(), MigrateOptions{Namespace: "metallb-system", DryRun: true}, &again); err != nil || regexp.MustCompile(`\n(create|update|refused) `).MatchString(again.String()) {
		t.Errorf("a dry run after the migration wants changes (%v):\n%s", err, again.String())
	}
	if err := adopted(ctx, want); err != nil {
		t.Errorf("after the advertisements: %v", err)
	}
}

// checkDryRun checks what a dry run printed, and that it created nothing.
func checkDryRun(t *testing.T, out string, n int) {
	t.Helper()
	for _, s := range []string{
		"kind: IPAddressPool", "name: dual", "create    IPAddressPool/v6", "create    BGPPeer/tor",
		"copy      Secret metallb-system/bgp-md5 to herald-system/bgp-md5",
		"Unsupported: BGPPeer/metallb-system/tor spec.bfdProfile", "Unsupported: BFDProfile/metallb-system/fast",
		"dualStackAddressFamily: false",
		fmt.Sprintf("Services with an IP: %d keep it, 0 may not", n),
		"apps/s002", "metallb.io/allow-shared-ip",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("dry run does not say %q:\n%s", s, out)
		}
	}
	var pools v1beta1.IPAddressPoolList
	if err := env.Client.List(context.Background(), &pools); err != nil || len(pools.Items) != 0 {
		t.Errorf("dry run created pools: %d, %v", len(pools.Items), err)
	}
}

// adopted checks that Herald's controller has reconciled every Service (it
// wrote its pool annotation, the positive signal) and that none lost or
// changed an IP.
func adopted(ctx context.Context, want map[string][]string) error {
	var list corev1.ServiceList
	if err := env.Client.List(ctx, &list, client.InNamespace("apps")); err != nil {
		return err
	}
	moved, waiting := 0, 0
	var first string
	for i := range list.Items {
		svc := &list.Items[i]
		if fmt.Sprint(ingress(svc)) != fmt.Sprint(want[svc.Name]) {
			moved++
			first = fmt.Sprintf("%s: %v → %v", svc.Name, want[svc.Name], ingress(svc))
		}
		if svc.Annotations[config.AnnotationAllocatedFromPool] != svc.Annotations["metallb.io/ip-allocated-from-pool"] {
			waiting++
		}
	}
	switch {
	case moved > 0:
		return fmt.Errorf("%d of %d Services' IPs moved, e.g. %s", moved, len(want), first)
	case len(list.Items) != len(want):
		return fmt.Errorf("%d Services, want %d", len(list.Items), len(want))
	case waiting > 0:
		return fmt.Errorf("%d Services not reconciled by Herald yet", waiting)
	}
	return nil
}

// startController runs Herald's reconcilers, as the controller binary does.
func startController(t *testing.T) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 500, 1000
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.NewController()
	if err := m.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	if err := reconcile.Setup(mgr, reconcile.Options{Class: kube.ClassPolicy{Class: kube.DefaultClass, Default: true}, Metrics: m}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// deleteHeraldConfig deletes every Herald configuration object, all of
// them cluster-scoped. The controller has stopped, so the pools' finalizer
// (which keeps a pool whose addresses are in use) is removed here.
func deleteHeraldConfig(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var pools v1beta1.IPAddressPoolList
	if err := env.Client.List(ctx, &pools); err != nil {
		t.Errorf("list pools: %v", err)
	}
	for i := range pools.Items {
		p := &pools.Items[i]
		if len(p.Finalizers) > 0 {
			p.Finalizers = nil
			if err := env.Client.Update(ctx, p); err != nil {
				t.Errorf("remove the finalizers of pool %s: %v", p.Name, err)
			}
		}
	}
	for _, obj := range []client.Object{&v1beta1.IPAddressPool{}, &v1beta1.L2Advertisement{}, &v1beta1.BGPAdvertisement{},
		&v1beta1.BGPPeer{}, &v1beta1.Community{}} {
		if err := env.Client.DeleteAllOf(ctx, obj); err != nil {
			t.Errorf("delete every %T: %v", obj, err)
		}
	}
}
