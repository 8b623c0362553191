package reconcile

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// ingressFor is the status the controller writes for ips. It always sets
// ipMode VIP: the apiserver defaults it, so leaving it out would make the
// cached status differ from ours and cause a second, no-op write.
func ingressFor(ips []netip.Addr) []corev1.LoadBalancerIngress {
	out := make([]corev1.LoadBalancerIngress, 0, len(ips))
	for _, ip := range ips {
		mode := corev1.LoadBalancerIPModeVIP
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String(), IPMode: &mode})
	}
	return out
}

// sameIngress reports whether the status already says exactly want.
func sameIngress(have, want []corev1.LoadBalancerIngress) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		h, w := have[i], want[i]
		if h.IP != w.IP || h.Hostname != "" || len(h.Ports) > 0 || h.IPMode == nil || *h.IPMode != *w.IPMode {
			return false
		}
	}
	return true
}

func ipStrings(ips []netip.Addr) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}
