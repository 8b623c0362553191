package speaker

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The informer cache holds every Service and EndpointSlice of the cluster,
// and was the largest part of the speaker's live heap (39-46% at 5,000 and
// 20,000 BGP routes, docs/benchmarks.md). TrimService and
// TrimEndpointSlice are its transforms: they keep only what the speaker
// reads, which TestTrimKeepsWhatIsRead proves by comparing what every
// reader makes of trimmed and untrimmed objects. A new reader of another
// field must keep it here too, or that test fails. Nothing writes these
// objects back, so no field is lost on the apiserver.

// TrimService is the cache's transform for Services. It keeps the name,
// namespace, UID and resourceVersion (Events refer to the Service by
// them), the labels (serviceSelectors), the type, class and traffic
// policy, and the ingress IPs.
func TrimService(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	out := &corev1.Service{
		TypeMeta:   svc.TypeMeta,
		ObjectMeta: trimmedMeta(svc.ObjectMeta),
		Spec: corev1.ServiceSpec{
			Type:                  svc.Spec.Type,
			LoadBalancerClass:     svc.Spec.LoadBalancerClass,
			ExternalTrafficPolicy: svc.Spec.ExternalTrafficPolicy,
		},
	}
	out.Labels = svc.Labels
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out.Status.LoadBalancer.Ingress = append(out.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: in.IP})
	}
	return out, nil
}

// TrimEndpointSlice is the cache's transform for EndpointSlices. The
// speaker reads a slice's Service (its service-name label) and, of its
// endpoints, only whether any is ready and on which nodes the ready ones
// are (plan.ServiceFrom). So it keeps one endpoint per node with a ready
// one, without addresses, and drops not-ready endpoints, ports and the
// other labels. An endpoint whose ready condition is unset counts as
// ready, and stays so.
func TrimEndpointSlice(obj any) (any, error) {
	es, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{
		TypeMeta:    es.TypeMeta,
		ObjectMeta:  trimmedMeta(es.ObjectMeta),
		AddressType: es.AddressType,
	}
	if name, ok := es.Labels[discoveryv1.LabelServiceName]; ok {
		out.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	}
	seen := map[string]bool{}
	for _, ep := range es.Endpoints {
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
			continue
		}
		node := ptr.Deref(ep.NodeName, "")
		if seen[node] {
			continue
		}
		seen[node] = true
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{
			NodeName:   ep.NodeName,
			Conditions: discoveryv1.EndpointConditions{Ready: ep.Conditions.Ready},
		})
	}
	return out, nil
}

// trimmedMeta keeps what names an object and its version, which the cache
// itself needs, and Events.
func trimmedMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}
}
