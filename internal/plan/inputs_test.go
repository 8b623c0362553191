package plan

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func endpoint(node string, ready *bool) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{Addresses: []string{"198.51.100.11"}, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	if node != "" {
		ep.NodeName = ptr.To(node)
	}
	return ep
}

func TestServiceFrom(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("198.51.100.70")}
	tests := []struct {
		name      string
		policy    corev1.ServiceExternalTrafficPolicy
		endpoints [][]discoveryv1.Endpoint // per slice
		ready     bool
		nodes     []string
	}{
		{"no slices", "", nil, false, nil},
		{"ready unset counts as ready", corev1.ServiceExternalTrafficPolicyCluster, [][]discoveryv1.Endpoint{{endpoint("node2", nil)}}, true, []string{"node2"}},
		{"not ready ignored", "", [][]discoveryv1.Endpoint{{endpoint("node1", ptr.To(false))}}, false, nil},
		{"over several slices, deduplicated", corev1.ServiceExternalTrafficPolicyLocal,
			[][]discoveryv1.Endpoint{{endpoint("node3", ptr.To(true)), endpoint("node1", ptr.To(true))}, {endpoint("node3", ptr.To(true)), endpoint("node2", ptr.To(false))}},
			true, []string{"node1", "node3"}},
		{"ready without a node", "", [][]discoveryv1.Endpoint{{endpoint("", ptr.To(true))}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: corev1.ServiceSpec{ExternalTrafficPolicy: tt.policy}}
			var eps []*discoveryv1.EndpointSlice
			for _, e := range tt.endpoints {
				eps = append(eps, &discoveryv1.EndpointSlice{Endpoints: e})
			}
			got := ServiceFrom(svc, ips, eps)
			if got.Key != "ns/web" || got.Ready != tt.ready || !slices.Equal(got.ReadyNodes, tt.nodes) ||
				got.Local != (tt.policy == corev1.ServiceExternalTrafficPolicyLocal) || !slices.Equal(got.IPs, ips) {
				t.Errorf("ServiceFrom = %+v, want ready %v on %v", got, tt.ready, tt.nodes)
			}
		})
	}
}

func TestNodeFrom(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1", Labels: map[string]string{LabelExcludeFromLB: ""}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue}}}}
	if got := NodeFrom(n); !got.Excluded || !got.NetworkUnavailable || got.Name != "node1" {
		t.Errorf("NodeFrom = %+v, want excluded and unavailable", got)
	}
	n.Labels = map[string]string{"a": "b"}
	n.Status.Conditions[0].Status = corev1.ConditionFalse
	if got := NodeFrom(n); got.Excluded || got.NetworkUnavailable {
		t.Errorf("NodeFrom = %+v, want neither", got)
	}
}
