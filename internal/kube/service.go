package kube

import (
	corev1 "k8s.io/api/core/v1"
)

// DefaultClass is the loadBalancerClass Herald answers to by default.
const DefaultClass = "heraldlb.io/herald"

// ClassPolicy says which LoadBalancer Services Herald handles. The
// controller and the speaker must use the same policy, or the speaker would
// announce addresses the controller does not manage, or the reverse.
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
