package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/heraldlb/herald/internal/ipam"
)

// Service annotations.
const (
	// AnnotationAddressPool names the pool a Service wants its IPs from.
	AnnotationAddressPool = "heraldlb.io/address-pool"
	// AnnotationLoadBalancerIPs lists the IPs a Service wants, comma
	// separated, at most one per family.
	AnnotationLoadBalancerIPs = "heraldlb.io/loadBalancerIPs"
	// AnnotationAllowSharedIP is the sharing key: Services with the same key
	// may share an IP.
	AnnotationAllowSharedIP = "heraldlb.io/allow-shared-ip"
	// AnnotationAllocatedFromPool is written by the controller: the pool the
	// Service's IPs come from.
	AnnotationAllocatedFromPool = "heraldlb.io/ip-allocated-from-pool"
)

// ErrInvalidService means a Service's annotations or spec cannot be turned
// into a request. Such errors also match ipam.ErrInvalidRequest, so that
// ipam.Reason names them InvalidRequest.
var ErrInvalidService = errors.New("invalid service")

type serviceError struct{ msg string }

func (e *serviceError) Error() string   { return e.msg }
func (e *serviceError) Unwrap() []error { return []error{ErrInvalidService, ipam.ErrInvalidRequest} }

func invalid(format string, args ...any) error {
	return &serviceError{msg: fmt.Sprintf(format, args...)}
}

// Request returns what svc asks of the allocator. nsLabels are the labels of
// its namespace. Malformed annotations give an error naming the annotation
// and the bad value, which wraps ErrInvalidService.
func Request(svc *corev1.Service, nsLabels map[string]string) (ipam.Request, error) {
	req := ipam.Request{
		Key:             svc.Namespace + "/" + svc.Name,
		Namespace:       svc.Namespace,
		NamespaceLabels: nsLabels,
		ServiceLabels:   svc.Labels,
	}
	ann := svc.Annotations
	if v, ok := ann[AnnotationAddressPool]; ok {
		req.Pool = strings.TrimSpace(v)
		if req.Pool == "" {
			return ipam.Request{}, invalid("annotation %s is empty: set it to the name of an IPAddressPool, or remove it", AnnotationAddressPool)
		}
	}
	if v, ok := ann[AnnotationAllowSharedIP]; ok {
		req.SharingKey = strings.TrimSpace(v)
		if req.SharingKey == "" {
			return ipam.Request{}, invalid("annotation %s is empty: set it to a sharing key, or remove it", AnnotationAllowSharedIP)
		}
	}
	ips, err := requestedIPs(svc)
	if err != nil {
		return ipam.Request{}, err
	}
	req.RequestedIPs = ips
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			req.Families = append(req.Families, ipam.IPv4)
		case corev1.IPv6Protocol:
			req.Families = append(req.Families, ipam.IPv6)
		default:
			return ipam.Request{}, invalid("spec.ipFamilies has unknown family %q", f)
		}
	}
	if p := svc.Spec.IPFamilyPolicy; p != nil {
		switch *p {
		case corev1.IPFamilyPolicySingleStack:
			req.Policy = ipam.SingleStack
		case corev1.IPFamilyPolicyPreferDualStack:
			req.Policy = ipam.PreferDualStack
		case corev1.IPFamilyPolicyRequireDualStack:
			req.Policy = ipam.RequireDualStack
		default:
			return ipam.Request{}, invalid("spec.ipFamilyPolicy has unknown value %q", *p)
		}
	}
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		req.Ports = append(req.Ports, ipam.Port{Protocol: proto, Port: p.Port})
	}
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		req.Local = true
	}
	req.Backend = Backend(svc.Spec.Selector)
	return req, nil
}

// requestedIPs reads spec.loadBalancerIP and the loadBalancerIPs annotation;
// setting both is an error, unless they agree.
func requestedIPs(svc *corev1.Service) ([]netip.Addr, error) {
	var out []netip.Addr
	if s := strings.TrimSpace(svc.Spec.LoadBalancerIP); s != "" {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return nil, invalid("spec.loadBalancerIP %q is not an IP address", svc.Spec.LoadBalancerIP)
		}
		out = append(out, ip.Unmap())
	}
	v, ok := svc.Annotations[AnnotationLoadBalancerIPs]
	if !ok {
		return out, nil
	}
	var ann []netip.Addr
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		ip, err := netip.ParseAddr(f)
		if err != nil || ip.Zone() != "" {
			return nil, invalid("annotation %s: %q is not an IP address (want a comma-separated list such as 198.51.100.7,2001:db8::7)", AnnotationLoadBalancerIPs, f)
		}
		ann = append(ann, ip.Unmap())
	}
	if len(ann) > 2 || (len(ann) == 2 && ann[0].Is4() == ann[1].Is4()) {
		return nil, invalid("annotation %s %q: want at most one IPv4 and one IPv6 address", AnnotationLoadBalancerIPs, v)
	}
	if len(out) > 0 && !(len(ann) == 1 && ann[0] == out[0]) {
		return nil, invalid("spec.loadBalancerIP %s and annotation %s %q disagree: set only one of them", out[0], AnnotationLoadBalancerIPs, v)
	}
	return ann, nil
}

// Backend is the canonical form of a Service's pod selector, which Services
// sharing an IP under externalTrafficPolicy: Local must have in common.
func Backend(selector map[string]string) string {
	if len(selector) == 0 {
		return ""
	}
	return labels.SelectorFromSet(selector).String()
}
