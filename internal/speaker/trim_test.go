package speaker

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/plan"
)

// read is everything the speaker makes of its cached Services and
// EndpointSlices: the plan and the planner's Services, the Events'
// object references, and the Services the latency figures attribute a
// change to.
type read struct {
	services []plan.Service
	plan     plan.Plan
	refs     map[string]*corev1.ObjectReference
	causes   map[string]time.Time
}

// TestTrimKeepsWhatIsRead: over many random Services and EndpointSlices,
// full of fields the speaker does not read, every reader makes the same of
// the trimmed objects as of the untrimmed ones.
func TestTrimKeepsWhatIsRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 5000))
	var l2, routes int
	for round := range 300 {
		svcs, eps := randomServices(rng)
		full := readAll(t, svcs, eps)
		trimmed := readAll(t, trimAll(t, svcs, TrimService), trimAll(t, eps, TrimEndpointSlice))
		if !reflect.DeepEqual(full, trimmed) {
			t.Fatalf("round %d: trimmed objects read differently:\nfull:    %+v\ntrimmed: %+v", round, full, trimmed)
		}
		l2 += len(full.plan.L2)
		for _, paths := range full.plan.BGP.Paths {
			routes += len(paths)
		}
	}
	// The comparison means something only if the plans announce.
	if l2 < 20 || routes < 20 {
		t.Fatalf("the random worlds announce too little to compare: %d Layer 2 entries, %d routes", l2, routes)
	}
}

// TestTrimPassesOtherObjects: the cache may hand a transform what is not
// of its kind (a tombstone); it goes through unchanged.
func TestTrimPassesOtherObjects(t *testing.T) {
	for _, trim := range []func(any) (any, error){TrimService, TrimEndpointSlice} {
		in := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}
		if out, err := trim(in); err != nil || out != any(in) {
			t.Errorf("got %v, %v; want the Node itself", out, err)
		}
	}
}

func trimAll[T any](t *testing.T, in []T, trim func(any) (any, error)) []T {
	t.Helper()
	var out []T
	for i := range in {
		o, err := trim(&in[i])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *o.(*T))
	}
	return out
}

func readAll(t *testing.T, svcs []corev1.Service, eps []discoveryv1.EndpointSlice) read {
	t.Helper()
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	var r read
	var refs map[string]*corev1.Service
	r.services, refs = servicesOf(svcs, eps, kube.ClassPolicy{Class: kube.DefaultClass, Default: true})
	r.refs = map[string]*corev1.ObjectReference{}
	for k, svc := range refs {
		if r.refs[k], err = reference.GetReference(scheme, svc); err != nil {
			t.Fatal(err)
		}
	}
	var c causes
	at := time.Unix(1800000000, 0)
	for i := range svcs {
		c.saw(&svcs[i], at)
	}
	for i := range eps {
		c.saw(&eps[i], at)
	}
	r.causes = c.services
	r.plan = plan.Compute(plan.Inputs{
		Self: "node1", Config: trimConfig(), Services: r.services, Claim: true,
		Nodes:     []plan.Node{{Name: "node1"}, {Name: "node2"}},
		Members:   []plan.Member{{Name: "node1", AnyLink: true}, {Name: "node2", AnyLink: true}},
		SelfAddrs: []netip.Addr{netip.MustParseAddr("198.51.100.11")},
	})
	return r
}

// trimConfig announces 198.51.100.64/26 over Layer 2 and 203.0.113.64/26
// over BGP, this one to the Services labelled tier=web only.
func trimConfig() config.Announce {
	return config.Announcements(config.Objects{
		Pools: []v1beta1.IPAddressPool{
			{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.64/26"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.64/26"}}},
		},
		L2: []v1beta1.L2Advertisement{{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}}}},
		BGP: []v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"routed"}, ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"tier": "web"}}}}}},
		Peers: []v1beta1.BGPPeer{{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPPeerSpec{
			MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: "198.51.100.1"}}},
	})
}

// randomServices are up to 12 Services in two namespaces, of random
// types, classes and traffic policies, with IPs in both pools (or none,
// or one that does not parse), and up to three EndpointSlices each, some
// of them another Service's or nobody's, all carrying what a real
// cluster fills in.
func randomServices(rng *rand.Rand) ([]corev1.Service, []discoveryv1.EndpointSlice) {
	var svcs []corev1.Service
	var eps []discoveryv1.EndpointSlice
	for i := range rng.IntN(13) {
		ns := []string{"default", "shop"}[rng.IntN(2)]
		name := fmt.Sprintf("s%d", i)
		svcs = append(svcs, randomService(rng, ns, name))
		for j := range rng.IntN(4) {
			owner := name
			if rng.IntN(6) == 0 {
				owner = fmt.Sprintf("s%d", rng.IntN(13))
			}
			eps = append(eps, randomSlice(rng, ns, fmt.Sprintf("%s-%d", name, j), owner))
		}
	}
	return svcs, eps
}

func randomService(rng *rand.Rand, ns, name string) corev1.Service {
	svc := corev1.Service{
		TypeMeta:   metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
		ObjectMeta: noisyMeta(rng, ns, name),
		Spec: corev1.ServiceSpec{
			Type:                  pick(rng, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort),
			LoadBalancerClass:     pick(rng, nil, nil, ptr.To(kube.DefaultClass), ptr.To("other.io/lb")),
			ExternalTrafficPolicy: pick(rng, corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal, ""),
			Selector:              map[string]string{"app": name},
			Ports:                 []corev1.ServicePort{{Name: "http", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}},
			ClusterIP:             "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
			LoadBalancerIP:      "198.51.100.70",
			HealthCheckNodePort: 32000,
		},
	}
	for range rng.IntN(3) {
		ip := pick(rng, "198.51.100.%d", "203.0.113.%d", "2001:db8::%x", "not-an-ip-%d")
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{
			IP: fmt.Sprintf(ip, 64+rng.IntN(70)), Hostname: "lb.example", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP),
			Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}},
		})
	}
	return svc
}

func randomSlice(rng *rand.Rand, ns, name, owner string) discoveryv1.EndpointSlice {
	es := discoveryv1.EndpointSlice{
		TypeMeta:    metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
		ObjectMeta:  noisyMeta(rng, ns, name),
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	if rng.IntN(8) > 0 {
		es.Labels[discoveryv1.LabelServiceName] = owner
	}
	es.Labels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
	for k := range rng.IntN(6) {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{fmt.Sprintf("10.244.%d.%d", k, rng.IntN(250))},
			Conditions: discoveryv1.EndpointConditions{
				Ready:   pick(rng, nil, ptr.To(true), ptr.To(false)),
				Serving: ptr.To(rng.IntN(2) == 0), Terminating: ptr.To(rng.IntN(4) == 0),
			},
			NodeName:  pick(rng, nil, ptr.To(""), ptr.To("node1"), ptr.To("node2"), ptr.To("node3")),
			Zone:      ptr.To("zone-a"),
			Hostname:  ptr.To(fmt.Sprintf("pod-%d", k)),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: fmt.Sprintf("pod-%d", k)},
			Hints:     &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}},
		})
	}
	return es
}

// noisyMeta is an object's metadata as the apiserver serves it: labels
// (some that serviceSelectors match), annotations, owners, finalizers and
// managed fields.
func noisyMeta(rng *rand.Rand, ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: ns, Name: name,
		UID:             types.UID(fmt.Sprintf("uid-%s-%s-%d", ns, name, rng.IntN(1000))),
		ResourceVersion: fmt.Sprint(rng.IntN(100000)), Generation: 3,
		CreationTimestamp: metav1.Unix(1700000000, 0),
		Labels:            map[string]string{"tier": pick(rng, "web", "db"), "app": name},
		Annotations:       map[string]string{"heraldlb.io/address-pool": "lan", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: name, UID: "owner"}},
		Finalizers:        []string{"service.kubernetes.io/load-balancer-cleanup"},
		ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}
}

func pick[T any](rng *rand.Rand, choices ...T) T { return choices[rng.IntN(len(choices))] }
