package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	heraldv1beta1 "github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// HeraldNamespace is where Herald's Leases and Secrets live.
const HeraldNamespace = kube.Namespace

// PoolAnnotation is written by the controller with the pool an IP came from.
const PoolAnnotation = "heraldlb.io/ip-allocated-from-pool"

// NodeName returns the Kubernetes name of node i (1-based).
func NodeName(i int) string { return fmt.Sprintf("node%d", i) }

// Node is one lab node: a namespace, a Node object and, later, a speaker.
type Node struct {
	Name  string
	Netns string
	IPv4  netip.Addr
	IPv6  netip.Addr
}

// createNodes creates a Ready Node object for every lab node.
func createNodes(ctx context.Context, c client.Client, nodes []Node) error {
	for _, n := range nodes {
		obj := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: n.Name,
			Labels: map[string]string{
				"kubernetes.io/hostname": n.Name,
				"kubernetes.io/os":       "linux",
			},
		}}
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("create node %s: %w", n.Name, err)
		}
		now := metav1.Now()
		obj.Status = corev1.NodeStatus{
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: n.IPv4.String()},
				{Type: corev1.NodeInternalIP, Address: n.IPv6.String()},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				Message: "lab node", LastHeartbeatTime: now, LastTransitionTime: now,
			}},
		}
		if err := c.Status().Update(ctx, obj); err != nil {
			return fmt.Errorf("set status of node %s: %w", n.Name, err)
		}
	}
	return nil
}

// ServiceOption changes a Service before CreateService creates it.
type ServiceOption func(*corev1.Service)

// WithPool asks for an IP from the named pool.
func WithPool(pool string) ServiceOption {
	return WithAnnotation("heraldlb.io/address-pool", pool)
}

// WithAnnotation sets an annotation.
func WithAnnotation(k, v string) ServiceOption {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

// DualStack asks for an IPv4 and an IPv6 address.
func DualStack() ServiceOption {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	}
}

// IPv6Only asks for an IPv6 address only.
func IPv6Only() ServiceOption {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	}
}

// LocalTraffic sets externalTrafficPolicy: Local.
func LocalTraffic() ServiceOption {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
}

// CreateService creates a LoadBalancer Service on port 80 in namespace ns
// (created if missing) and an EndpointSlice per family with one ready
// endpoint on each of the given nodes, standing in for pods.
func (l *Lab) CreateService(ctx context.Context, ns, name string, onNodes []Node, opts ...ServiceOption) (*corev1.Service, error) {
	c := l.Env.Client
	if err := ensureNamespace(ctx, c, ns); err != nil {
		return nil, err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer,
			// The nodes' DNAT stands in for kube-proxy: no node ports, of
			// which there are too few for the benchmarks' thousands.
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Selector:                      map[string]string{"app": name},
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	for _, o := range opts {
		o(svc)
	}
	if err := c.Create(ctx, svc); err != nil {
		return nil, fmt.Errorf("create service %s/%s: %w", ns, name, err)
	}
	if err := l.SetEndpoints(ctx, svc, onNodes); err != nil {
		return nil, err
	}
	return svc, nil
}

// SetEndpoints replaces the Service's EndpointSlices with one ready endpoint
// on each of the given nodes, per IP family of the Service. The endpoint
// addresses are the nodes' own, as for host-network pods.
func (l *Lab) SetEndpoints(ctx context.Context, svc *corev1.Service, onNodes []Node) error {
	c := l.Env.Client
	families := svc.Spec.IPFamilies
	if len(families) == 0 {
		families = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	for _, fam := range families {
		name := fmt.Sprintf("%s-%s", svc.Name, strings.ToLower(string(fam)))
		es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: name}}
		_, err := ctrlCreateOrUpdate(ctx, c, es, func() {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "herald-lab"}
			es.AddressType = discoveryv1.AddressTypeIPv4
			if fam == corev1.IPv6Protocol {
				es.AddressType = discoveryv1.AddressTypeIPv6
			}
			es.Ports = []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}}
			es.Endpoints = nil
			for _, n := range onNodes {
				addr := n.IPv4
				if fam == corev1.IPv6Protocol {
					addr = n.IPv6
				}
				es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
					Addresses:  []string{addr.String()},
					NodeName:   ptr.To(n.Name),
					Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
				})
			}
		})
		if err != nil {
			return fmt.Errorf("set endpoints of %s/%s: %w", svc.Namespace, svc.Name, err)
		}
	}
	return nil
}

func ctrlCreateOrUpdate(ctx context.Context, c client.Client, obj client.Object, mutate func()) (bool, error) {
	key := client.ObjectKeyFromObject(obj)
	if err := c.Get(ctx, key, obj); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return false, err
		}
		mutate()
		return true, c.Create(ctx, obj)
	}
	mutate()
	return false, c.Update(ctx, obj)
}

func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// IngressIPs returns the addresses in the Service's status.
func IngressIPs(svc *corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// DeleteService deletes a Service and the EndpointSlices SetEndpoints made
// for it.
func (l *Lab) DeleteService(ctx context.Context, svc *corev1.Service) error {
	c := l.Env.Client
	if err := c.Delete(ctx, svc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	err := c.DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(svc.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "herald-lab"})
	if err != nil {
		return fmt.Errorf("delete endpoints of %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// HeraldNode returns the status node's speaker writes: what it announces,
// with its quorum and BGP sessions.
func (l *Lab) HeraldNode(ctx context.Context, node string) (v1beta1.HeraldNodeStatus, error) {
	var hn v1beta1.HeraldNode
	if err := l.Env.Client.Get(ctx, client.ObjectKey{Name: node}, &hn); err != nil {
		return v1beta1.HeraldNodeStatus{}, fmt.Errorf("read the HeraldNode of %s: %w", node, err)
	}
	return hn.Status, nil
}

// Service reads a Service.
func (l *Lab) Service(ctx context.Context, ns, name string) (*corev1.Service, error) {
	svc := &corev1.Service{}
	if err := l.Env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
		return nil, fmt.Errorf("get service %s/%s: %w", ns, name, err)
	}
	return svc, nil
}

// WaitForIPs waits until the Service has at least want ingress IPs, and
// returns it.
func (l *Lab) WaitForIPs(ctx context.Context, ns, name string, want int, timeout time.Duration) (*corev1.Service, error) {
	svc := &corev1.Service{}
	var lastErr error
	err := waitFor(ctx, timeout, func() bool {
		lastErr = l.Env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, svc)
		return lastErr == nil && len(IngressIPs(svc)) >= want
	})
	if err != nil {
		if lastErr != nil {
			return svc, fmt.Errorf("wait for IPs of %s/%s: %w", ns, name, lastErr)
		}
		return svc, fmt.Errorf("wait for IPs of %s/%s: have %v after %s: %w", ns, name, IngressIPs(svc), timeout, err)
	}
	return svc, nil
}

// SamplesDir is where the Layer 2 and BGP sample configurations live.
func SamplesDir() string { return filepath.Join(testenv.RepoRoot(), "config", "samples") }

// ApplySamples applies config/samples with kubectl: the kustomization when
// there is one, every YAML file otherwise. It returns what it applied, and
// nothing when there are no samples.
func (l *Lab) ApplySamples(ctx context.Context) ([]string, error) {
	dir := SamplesDir()
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err == nil {
		_, err := l.kubectl(ctx, "apply", "-k", dir)
		return []string{dir}, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	files = append(files, more...)
	sort.Strings(files)
	for _, f := range files {
		if _, err := l.kubectl(ctx, "apply", "-f", f); err != nil {
			return files, err
		}
	}
	return files, nil
}

func (l *Lab) kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := l.Env.Kubectl(args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// ApplyDefaultConfig creates the lab's own pools and advertisements, for when
// config/samples has none: pool "lab-l2" (L2Pool4, L2Pool6) with an
// L2Advertisement, pool "lab-bgp" (BGPPool4, BGPPool6) with a
// BGPAdvertisement, and BGPPeers to the router over IPv4 and IPv6 with the
// router's password in Secret herald-system/lab-bgp-password.
func (l *Lab) ApplyDefaultConfig(ctx context.Context) error {
	c := l.Env.Client
	objs := []client.Object{
		&heraldv1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Name: "lab-l2"},
			Spec:       heraldv1beta1.IPAddressPoolSpec{Addresses: []heraldv1beta1.AddressRange{heraldv1beta1.AddressRange(L2Pool4.String()), heraldv1beta1.AddressRange(L2Pool6.String())}},
		},
		&heraldv1beta1.IPAddressPool{
			ObjectMeta: metav1.ObjectMeta{Name: "lab-bgp"},
			Spec:       heraldv1beta1.IPAddressPoolSpec{Addresses: []heraldv1beta1.AddressRange{heraldv1beta1.AddressRange(BGPPool4.String()), heraldv1beta1.AddressRange(BGPPool6.String())}},
		},
		&heraldv1beta1.L2Advertisement{
			ObjectMeta: metav1.ObjectMeta{Name: "lab-l2"},
			Spec:       heraldv1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lab-l2"}},
		},
		&heraldv1beta1.BGPAdvertisement{
			ObjectMeta: metav1.ObjectMeta{Name: "lab-bgp"},
			Spec:       heraldv1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"lab-bgp"}},
		},
	}
	objs = append(objs, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: HeraldNamespace, Name: "lab-bgp-password"},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"password": BGPPassword},
	})
	for _, peer := range []netip.Addr{RouterLAN4, RouterLAN6} {
		name := "lab-router-v4"
		if peer.Is6() {
			name = "lab-router-v6"
		}
		objs = append(objs, &heraldv1beta1.BGPPeer{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: heraldv1beta1.BGPPeerSpec{
				MyASN: NodeASN, PeerASN: ptr.To(heraldv1beta1.ASN(RouterASN)), PeerAddress: peer.String(),
				PasswordSecret: &heraldv1beta1.SecretRef{Name: "lab-bgp-password", Namespace: HeraldNamespace},
			},
		})
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && client.IgnoreAlreadyExists(err) != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// PoolFor returns the name of the first IPAddressPool whose addresses lie
// inside prefix, so demos and tests find the samples' pools by address.
func (l *Lab) PoolFor(ctx context.Context, prefix netip.Prefix) (string, error) {
	var pools heraldv1beta1.IPAddressPoolList
	if err := l.Env.Client.List(ctx, &pools); err != nil {
		return "", fmt.Errorf("list pools: %w", err)
	}
	slices.SortFunc(pools.Items, func(a, b heraldv1beta1.IPAddressPool) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pools.Items {
		for _, r := range p.Spec.Addresses {
			if first, ok := rangeStart(string(r)); ok && prefix.Contains(first) {
				return p.Name, nil
			}
		}
	}
	return "", fmt.Errorf("no IPAddressPool inside %s", prefix)
}

// rangeStart returns the first address of a CIDR or an "a-b" range.
func rangeStart(r string) (netip.Addr, bool) {
	r = strings.TrimSpace(r)
	if p, err := netip.ParsePrefix(r); err == nil {
		return p.Masked().Addr(), true
	}
	if a, _, ok := strings.Cut(r, "-"); ok {
		addr, err := netip.ParseAddr(strings.TrimSpace(a))
		return addr, err == nil
	}
	return netip.Addr{}, false
}

// EditNode changes the Node named name as kubectl would (spec and labels),
// retrying on conflicts with the speakers' and controllers' writes.
func (l *Lab) EditNode(ctx context.Context, name string, edit func(*corev1.Node)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n := &corev1.Node{}
		if err := l.Env.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		edit(n)
		return l.Env.Client.Update(ctx, n)
	})
}
