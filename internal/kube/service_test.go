package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
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

func TestScheme(t *testing.T) {
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"IPAddressPool", "L2Advertisement", "BGPAdvertisement", "BGPPeer", "Community"} {
		if !s.Recognizes(corev1.SchemeGroupVersion.WithKind("Service")) {
			t.Fatal("scheme does not know Service")
		}
		gvk := corev1.SchemeGroupVersion.WithKind(kind)
		gvk.Group, gvk.Version = "heraldlb.io", "v1beta1"
		if !s.Recognizes(gvk) {
			t.Errorf("scheme does not know %s", gvk)
		}
	}
}
