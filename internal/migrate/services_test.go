package migrate

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

func lb(name string, ann map[string]string, ips ...string) corev1.Service {
	s := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name, Annotations: ann},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

func TestServices(t *testing.T) {
	pools := []v1beta1.IPAddressPool{
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.0/28", "2001:db8::/124"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.0/28"}}},
	}
	cluster := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "internal"}}
	svcs := []corev1.Service{
		lb("plain", nil, "198.51.100.1"),
		lb("dual", map[string]string{"metallb.io/ip-allocated-from-pool": "a", "metallb.io/allow-shared-ip": "k"}, "198.51.100.2", "2001:db8::2"),
		lb("old", map[string]string{"metallb.universe.tf/address-pool": "b"}, "203.0.113.3"),
		lb("outside", nil, "198.51.100.200"),
		lb("split", nil, "198.51.100.4", "203.0.113.4"),
		lb("bad", map[string]string{"metallb.io/loadBalancerIPs": "nope"}, "198.51.100.5"),
		lb("pending", nil),
		cluster,
	}
	got := Services(svcs, pools)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key)
	}
	if want := []string{"web/bad", "web/dual", "web/old", "web/outside", "web/plain", "web/split"}; !slices.Equal(keys, want) {
		t.Fatalf("planned %v, want %v", keys, want)
	}
	byKey := map[string]ServicePlan{}
	for _, p := range got {
		byKey[p.Key] = p
	}
	dual := byKey["web/dual"]
	if dual.Pool != "a" || dual.MetalLBPool != "a" || !slices.Equal(dual.IPs, []netip.Addr{netip.MustParseAddr("198.51.100.2"), netip.MustParseAddr("2001:db8::2")}) ||
		!slices.Equal(dual.Annotations, []string{"metallb.io/allow-shared-ip", "metallb.io/ip-allocated-from-pool"}) || dual.Problem != "" {
		t.Errorf("dual = %+v", dual)
	}
	if p := byKey["web/old"]; p.Pool != "b" || p.Problem != "" {
		t.Errorf("old = %+v", p)
	}
	for key, want := range map[string]string{"web/outside": "no migrated pool holds 198.51.100.200", "web/split": "different pools (a, b)", "web/bad": "metallb.io/loadBalancerIPs"} {
		if p := byKey[key]; !strings.Contains(p.Problem, want) {
			t.Errorf("%s: problem %q, want %q in it", key, p.Problem, want)
		}
	}
}
