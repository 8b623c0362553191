package cli

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/ipam"
)

// scene is what one case of TestWhyAgainstAPIServer puts in the apiserver:
// cluster-scoped objects (Nodes, configuration, HeraldNodes), and, in the
// case's own namespace, Services with their status, EndpointSlices and
// Events. The last Service is the one explained.
type scene struct {
	cluster  []client.Object // advertisements and peers: no status
	speakers []client.Object // HeraldNodes (no status subresource)
	// pools, nodes and services get their status written after creation.
	pools    []*v1beta1.IPAddressPool
	nodes    []*corev1.Node
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
	events   []*corev1.Event
	nsLabels map[string]string // the labels of the case's namespace
}

func (s *scene) add(objs ...client.Object) { s.cluster = append(s.cluster, objs...) }

// withStatus are the objects whose status is written after creation, in
// order: pools, Nodes, then Services.
func (s *scene) withStatus() []client.Object {
	var out []client.Object
	for _, p := range s.pools {
		out = append(out, p)
	}
	for _, n := range s.nodes {
		out = append(out, n)
	}
	for _, svc := range s.services {
		out = append(out, svc)
	}
	return out
}

// explained is the Service the case explains.
func (s *scene) explained() *corev1.Service { return s.services[len(s.services)-1] }

// svcOpt changes a Service being built.
type svcOpt func(*corev1.Service)

// lbService is Service name of ns, of type LoadBalancer.
func lbService(ns, name string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// allocated gives the Service ips from pool, as the controller writes them.
func allocated(pool string, ips ...string) svcOpt {
	return func(s *corev1.Service) {
		s.Annotations[config.AnnotationAllocatedFromPool] = pool
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
	}
}

func annotated(key, value string) svcOpt {
	return func(s *corev1.Service) { s.Annotations[key] = value }
}

func localTraffic(s *corev1.Service) {
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

// readyOn is the Service's EndpointSlice with one ready endpoint on each
// node.
func readyOn(svc *corev1.Service, nodes ...string) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}}, AddressType: discoveryv1.AddressTypeIPv4}
	for i, n := range nodes {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("198.51.100.%d", 10+i)},
			NodeName: ptr.To(n), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	return es
}

// warning is a Warning Event on svc, as the controller's recorder writes it.
func warning(svc *corev1.Service, reason, msg string) *corev1.Event {
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: svc.Namespace, Name: svc.Name},
		Reason:         reason, Message: msg, Type: corev1.EventTypeWarning, Source: corev1.EventSource{Component: "herald-controller"},
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1}
}

// controllerSays is the error the controller's allocator gives svc when
// holders hold what their status shows: the message of its AllocationFailed
// Event, from the same pure code.
func controllerSays(t *testing.T, pools []*v1beta1.IPAddressPool, holders []*corev1.Service, svc *corev1.Service, nsLabels map[string]string) string {
	t.Helper()
	items := make([]v1beta1.IPAddressPool, len(pools))
	for i, p := range pools {
		items[i] = *p
	}
	a := ipam.New()
	if err := a.SetPools(config.Pools(items).Pools); err != nil {
		t.Fatal(err)
	}
	for _, h := range holders {
		req, err := config.Request(h, nsLabels)
		if err == nil {
			_, err = a.Assign(req, config.IngressIPs(h))
		}
		if err != nil {
			t.Fatalf("hold %s: %v", h.Name, err)
		}
	}
	req, err := config.Request(svc, nsLabels)
	if err == nil {
		_, err = a.Allocate(req)
	}
	if err == nil {
		t.Fatalf("the allocator gives %s an IP", svc.Name)
	}
	return err.Error()
}

// poolOpt changes an IPAddressPool being built.
type poolOpt func(*v1beta1.IPAddressPool)

func pool(name string, addrs []v1beta1.AddressRange, opts ...poolOpt) *v1beta1.IPAddressPool {
	p := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.IPAddressPoolSpec{Addresses: addrs}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// full gives the pool the status the controller writes when every address
// is in use.
func full(inUse string) poolOpt {
	return func(p *v1beta1.IPAddressPool) { p.Status.InUse, p.Status.Available = inUse, "0" }
}

func namespacesLabelled(key, value string) poolOpt {
	return func(p *v1beta1.IPAddressPool) {
		p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{key: value}}}}
	}
}

func onlyNamespaces(ns ...string) poolOpt {
	return func(p *v1beta1.IPAddressPool) {
		p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{Namespaces: ns}
	}
}

func l2Adv(name string, pools []string, nodeSelectors ...metav1.LabelSelector) *v1beta1.L2Advertisement {
	return &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: pools, NodeSelectors: nodeSelectors}}
}

func bgpAdv(name string, pools []string) *v1beta1.BGPAdvertisement {
	return &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: pools}}
}

func bgpPeer(name, addr string) *v1beta1.BGPPeer {
	return &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.BGPPeerSpec{MyASN: 64512, PeerASN: ptr.To(v1beta1.ASN(64513)), PeerAddress: addr}}
}

// nodeOpt changes a Node being built.
type nodeOpt func(*corev1.Node)

// kubeNode is a Ready Node with its hostname label.
func kubeNode(name string, opts ...nodeOpt) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "KubeletReady"}}}}
	for _, o := range opts {
		o(n)
	}
	return n
}

func labelled(key, value string) nodeOpt {
	return func(n *corev1.Node) { n.Labels[key] = value }
}

// notReadySince marks the Node's kubelet silent since at.
func notReadySince(at metav1.Time) nodeOpt {
	return func(n *corev1.Node) {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			LastHeartbeatTime: at, LastTransitionTime: at, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}}
	}
}

func cordoned(n *corev1.Node) { n.Spec.Unschedulable = true }

func tainted(key string) nodeOpt {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
	}
}

// speakers are the HeraldNodes of names, each seeing all of them alive and
// claiming, with opts[name] applied to that node's.
func speakers(names []string, opts map[string][]hnt.Option) []client.Object {
	var out []client.Object
	n := int32(len(names))
	for _, name := range names {
		base := []hnt.Option{hnt.Quorum(n, n, "all known speakers alive: claims"), hnt.Members(names...)}
		hn := hnt.New(name, append(base, opts[name]...)...)
		out = append(out, &hn)
	}
	return out
}
