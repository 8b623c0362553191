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

// annotationPrefixes are the prefixes under which a Service's annotations
// are read, Herald's first: MetalLB's current and older prefixes are read
// too, so that Services keep their meaning after a migration without being
// edited.
var annotationPrefixes = []string{"heraldlb.io/", "metallb.io/", "metallb.universe.tf/"}

// annotation reads the annotation named by Herald's key under every prefix.
// Where several are set they must agree, because silently preferring one
// would hand a Service an IP or pool its owner did not mean; the error
// names each key and value.
func annotation(ann map[string]string, key string) (string, string, bool, error) {
	name := strings.TrimPrefix(key, annotationPrefixes[0])
	var val, from string
	found := false
	for _, p := range annotationPrefixes {
		v, ok := ann[p+name]
		switch {
		case !ok:
		case !found:
			val, from, found = v, p+name, true
		case strings.TrimSpace(v) != strings.TrimSpace(val):
			return "", "", false, invalid("annotations %s %q and %s %q disagree: keep one of them", from, val, p+name, v)
		}
	}
	return val, from, found, nil
}

// AllocatedFromPool is the pool an annotation says a Service's IPs came
// from: Herald's own, or the one MetalLB wrote before a migration.
func AllocatedFromPool(svc *corev1.Service) string {
	for _, p := range annotationPrefixes {
		if v, ok := svc.Annotations[p+"ip-allocated-from-pool"]; ok {
			return v
		}
	}
	return ""
}

// SharingKey is the Service's allow-shared-ip key under any prefix ("" if
// none, or if the prefixes disagree, which Request reports).
func SharingKey(svc *corev1.Service) string {
	v, _, _, err := annotation(svc.Annotations, AnnotationAllowSharedIP)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

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
	var err error
	if req.Pool, err = nonEmpty(svc.Annotations, AnnotationAddressPool, "the name of an IPAddressPool"); err != nil {
		return ipam.Request{}, err
	}
	if req.SharingKey, err = nonEmpty(svc.Annotations, AnnotationAllowSharedIP, "a sharing key"); err != nil {
		return ipam.Request{}, err
	}
	if req.RequestedIPs, err = requestedIPs(svc); err != nil {
		return ipam.Request{}, err
	}
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

// nonEmpty reads an annotation that, when present, must have a value.
func nonEmpty(ann map[string]string, key, what string) (string, error) {
	v, from, ok, err := annotation(ann, key)
	if err != nil || !ok {
		return "", err
	}
	if v = strings.TrimSpace(v); v == "" {
		return "", invalid("annotation %s is empty: set it to %s, or remove it", from, what)
	}
	return v, nil
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
	v, from, ok, err := annotation(svc.Annotations, AnnotationLoadBalancerIPs)
	if err != nil || !ok {
		return out, err
	}
	var ann []netip.Addr
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		ip, err := netip.ParseAddr(f)
		if err != nil || ip.Zone() != "" {
			return nil, invalid("annotation %s: %q is not an IP address (want a comma-separated list such as 198.51.100.7,2001:db8::7)", from, f)
		}
		ann = append(ann, ip.Unmap())
	}
	if len(ann) > 2 || (len(ann) == 2 && ann[0].Is4() == ann[1].Is4()) {
		return nil, invalid("annotation %s %q: want at most one IPv4 and one IPv6 address", from, v)
	}
	if len(out) > 0 && !(len(ann) == 1 && ann[0] == out[0]) {
		return nil, invalid("spec.loadBalancerIP %s and annotation %s %q disagree: set only one of them", out[0], from, v)
	}
	return ann, nil
}

// IngressIPs returns the IPs in a Service's load-balancer status. Entries
// that are hostnames or do not parse are skipped.
func IngressIPs(svc *corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// Backend is the canonical form of a Service's pod selector, which Services
// sharing an IP under externalTrafficPolicy: Local must have in common.
func Backend(selector map[string]string) string {
	if len(selector) == 0 {
		return ""
	}
	return labels.SelectorFromSet(selector).String()
}
