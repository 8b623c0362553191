package reconcile

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

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
}
