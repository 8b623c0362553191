package reconcile

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// ClassPolicy says which LoadBalancer Services the controller handles.
type ClassPolicy struct {
	// Class is our spec.loadBalancerClass.
	Class string
	// Default: also handle Services that set no loadBalancerClass, as the
	// cluster's default load-balancer implementation does.
	Default bool
}

// Handles reports whether svc is ours: type LoadBalancer, with our class, or
// no class when we are the default implementation.
func (p ClassPolicy) Handles(svc *corev1.Service) bool {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	if c := svc.Spec.LoadBalancerClass; c != nil {
		return *c == p.Class
	}
	return p.Default
}

// ingressIPs returns the IPs in a Service's load-balancer status.
func ingressIPs(svc *corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

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
