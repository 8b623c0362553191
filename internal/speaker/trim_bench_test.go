package speaker

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// BenchmarkCachedBytes reports the live heap that 5,000 Services and their
// EndpointSlices (three ready endpoints each, one per node, as the lab
// makes them) hold in the cache, untrimmed and trimmed: B/svc counts a
// Service and its slice together.
func BenchmarkCachedBytes(b *testing.B) {
	for _, tc := range []struct {
		name     string
		svc, eps func(any) (any, error)
	}{
		{"full", keep, keep},
		{"trimmed", TrimService, TrimEndpointSlice},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 5000
			var perSvc float64
			for b.Loop() {
				before := liveHeap()
				held := make([]any, 0, 2*n)
				for i := range n {
					s, _ := tc.svc(labService(i))
					e, _ := tc.eps(labSlice(i))
					held = append(held, s, e)
				}
				perSvc = float64(liveHeap()-before) / n
				runtime.KeepAlive(held)
			}
			b.ReportMetric(perSvc, "B/svc")
		})
	}
}

func keep(o any) (any, error) { return o, nil }

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// labMeta is the metadata the lab's apiserver gives an object, without
// its managed fields, which main's cache already strips.
func labMeta(i int, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: "bench", Name: name, UID: types.UID(fmt.Sprintf("6f1c2d3e-0000-4000-8000-%012d", i)),
		ResourceVersion: fmt.Sprint(100000 + i), CreationTimestamp: metav1.Unix(1800000000, 0),
		Labels: map[string]string{"app": name}, Annotations: map[string]string{},
	}
}

// labService is a BGP Service as the lab's apiserver serves it, managed
// fields stripped.
func labService(i int) *corev1.Service {
	name := fmt.Sprintf("svc-%05d", i)
	svc := &corev1.Service{
		ObjectMeta: labMeta(i, name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80,
				NodePort: int32(30000 + i%2000)}},
			ClusterIP: fmt.Sprintf("fd00:10:96::%x", i), ClusterIPs: []string{fmt.Sprintf("fd00:10:96::%x", i)},
			IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}, IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicySingleStack),
			SessionAffinity: corev1.ServiceAffinityNone, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster), AllocateLoadBalancerNodePorts: ptr.To(true),
		},
	}
	svc.Annotations["heraldlb.io/ip-allocated-from-pool"] = "routed-v6"
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: fmt.Sprintf("2001:db8:ff::%x", i), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
	return svc
}

// labSlice is the lab harness's EndpointSlice for labService(i): an
// endpoint on each of three nodes.
func labSlice(i int) *discoveryv1.EndpointSlice {
	name := fmt.Sprintf("svc-%05d", i)
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  labMeta(i, name+"-lab"),
		AddressType: discoveryv1.AddressTypeIPv6,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](80), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	es.Labels[discoveryv1.LabelServiceName] = name
	for n := 1; n <= 3; n++ {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("2001:db8:1::%x:%d", i, n)},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			NodeName:   ptr.To(fmt.Sprintf("node%d", n)),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "bench", Name: fmt.Sprintf("%s-%d", name, n)},
		})
	}
	return es
}
