package reconcile

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/internal/ipam"
)

func TestClassPolicy(t *testing.T) {
	lb := func(class *string) *corev1.Service {
		return &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: class}}
	}
	tests := []struct {
		name   string
		policy ClassPolicy
		svc    *corev1.Service
		want   bool
	}{
		{"unset class, default", ClassPolicy{Class: DefaultClass, Default: true}, lb(nil), true},
		{"unset class, not default", ClassPolicy{Class: DefaultClass}, lb(nil), false},
		{"our class", ClassPolicy{Class: DefaultClass}, lb(ptr.To(DefaultClass)), true},
		{"custom class", ClassPolicy{Class: "example.com/lb", Default: true}, lb(ptr.To("example.com/lb")), true},
		{"other class", ClassPolicy{Class: DefaultClass, Default: true}, lb(ptr.To("example.com/other")), false},
		{"not a load balancer", ClassPolicy{Class: DefaultClass, Default: true}, &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}}, false},
	}
	for _, tt := range tests {
		if got := tt.policy.Handles(tt.svc); got != tt.want {
			t.Errorf("%s: Handles = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIngress(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")}
	want := ingressFor(ips)
	if want[0].IPMode == nil || *want[0].IPMode != corev1.LoadBalancerIPModeVIP {
		t.Fatalf("ingressFor does not set ipMode VIP: %+v", want)
	}
	if !sameIngress(ingressFor(ips), want) {
		t.Errorf("identical ingress reported different")
	}
	noMode := []corev1.LoadBalancerIngress{{IP: "198.51.100.1"}, {IP: "2001:db8::1"}}
	if sameIngress(noMode, want) {
		t.Errorf("ingress without ipMode reported the same")
	}
	svc := &corev1.Service{Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: append(noMode, corev1.LoadBalancerIngress{Hostname: "x"})}}}
	if got := ingressIPs(svc); !ipam.SameIPs(got, ips) {
		t.Errorf("ingressIPs = %v", got)
	}
}
