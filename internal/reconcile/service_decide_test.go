package reconcile

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
)

func ips(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestAdopt(t *testing.T) {
	inUse := fmt.Errorf("record: %w", ipam.ErrIPInUse)
	invalid := fmt.Errorf("record: %w", ipam.ErrInvalidRequest)
	tests := []struct {
		name      string
		inPool    bool
		assignErr error
		want      adoptAction
	}{
		{"in a pool and free: kept", true, nil, adoptKeep},
		{"outside every pool: replaced", false, nil, adoptReplace},
		{"held by another Service: replaced", true, inUse, adoptReplace},
		{"sharing refused is held by another: replaced", true, fmt.Errorf("x: %w", errors.Join(ipam.ErrSharingRefused, ipam.ErrIPInUse)), adoptReplace},
		{"malformed (two IPv4): refused, left in place", true, invalid, adoptRefuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := adopt(tt.inPool, tt.assignErr)
			if v.Action != tt.want {
				t.Fatalf("adopt = %+v, want action %d", v, tt.want)
			}
			switch v.Action {
			case adoptReplace:
				if v.Why == "" {
					t.Errorf("a replacement without a reason for its Event")
				}
			case adoptRefuse:
				if !errors.Is(v.Err, tt.assignErr) {
					t.Errorf("refusal %v does not wrap %v", v.Err, tt.assignErr)
				}
			}
		})
	}
}

func TestStatusOurs(t *testing.T) {
	a, b := ips("198.51.100.1"), ips("198.51.100.2")
	tests := []struct {
		name                       string
		current                    []netip.Addr
		held                       bool
		heldIPs                    []netip.Addr
		annotated, inAnnotatedPool bool
		want                       bool
	}{
		{"held, status shows it", a, true, a, true, true, true},
		{"held, status shows it, no annotation", a, true, a, false, false, true},
		{"held, status shows something else", b, true, a, true, true, false},
		{"not held, annotated, in that pool", a, false, nil, true, true, true},
		{"not held, annotated, outside that pool", a, false, nil, true, false, false},
		{"not held, not annotated", a, false, nil, false, false, false},
		{"empty status is nobody's", nil, true, a, true, true, false},
		{"dual-stack, same IPs in another order", ips("2001:db8::1", "198.51.100.1"), true, ips("198.51.100.1", "2001:db8::1"), true, true, true},
	}
	for _, tt := range tests {
		if got := statusOurs(tt.current, tt.held, tt.heldIPs, tt.annotated, tt.inAnnotatedPool); got != tt.want {
			t.Errorf("%s: statusOurs = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAnnotationStale(t *testing.T) {
	tests := []struct {
		name string
		have map[string]string
		pool string
		want bool
	}{
		{"missing", nil, "p", true},
		{"another pool", map[string]string{config.AnnotationAllocatedFromPool: "q"}, "p", true},
		{"in place", map[string]string{config.AnnotationAllocatedFromPool: "p"}, "p", false},
		{"outside every pool: left alone", map[string]string{config.AnnotationAllocatedFromPool: "q"}, "", false},
		{"outside every pool, none: left alone", nil, "", false},
	}
	for _, tt := range tests {
		if got := annotationStale(tt.have, tt.pool); got != tt.want {
			t.Errorf("%s: annotationStale = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func svcWith(annotations map[string]string, ingress ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s", Annotations: annotations}}
	s.Status.LoadBalancer.Ingress = ingressFor(ips(ingress...))
	return s
}

func TestAssignPatch(t *testing.T) {
	ann := map[string]string{config.AnnotationAllocatedFromPool: "p"}
	a := ipam.Assignment{Pool: "p", IPs: ips("198.51.100.1")}
	status := map[string]any{"loadBalancer": map[string]any{"ingress": ingressFor(a.IPs)}}
	tests := []struct {
		name string
		svc  *corev1.Service
		want map[string]any
	}{
		{"everything in place: no write", svcWith(ann, "198.51.100.1"), nil},
		{"new Service: status and annotation in one patch", svcWith(nil), map[string]any{"status": status, "metadata": annotationPatch("p")}},
		{"status in place, annotation missing", svcWith(nil, "198.51.100.1"), map[string]any{"metadata": annotationPatch("p")}},
		{"annotation in place, status differs", svcWith(ann, "198.51.100.2"), map[string]any{"status": status}},
	}
	for _, tt := range tests {
		if got := assignPatch(tt.svc, a); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: assignPatch = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Recomputing from the patched Service writes nothing.
	done := svcWith(ann, "198.51.100.1")
	if got := assignPatch(done, a); got != nil {
		t.Errorf("assignPatch after the patch = %v, want nil", got)
	}
}

func TestReleasePatch(t *testing.T) {
	ann := map[string]string{config.AnnotationAllocatedFromPool: "p"}
	clear := map[string]any{"loadBalancer": map[string]any{"ingress": nil}}
	tests := []struct {
		name string
		svc  *corev1.Service
		ours bool
		want map[string]any
	}{
		{"ours, annotated: both removed", svcWith(ann, "198.51.100.1"), true, map[string]any{"status": clear, "metadata": annotationPatch(nil)}},
		{"not ours, annotated: only the annotation", svcWith(ann, "203.0.113.9"), false, map[string]any{"metadata": annotationPatch(nil)}},
		{"ours, not annotated: only the status", svcWith(nil, "198.51.100.1"), true, map[string]any{"status": clear}},
		{"nothing of ours: no write", svcWith(nil, "203.0.113.9"), false, nil},
	}
	for _, tt := range tests {
		if got := releasePatch(tt.svc, tt.ours); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: releasePatch = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestKeptAnnotation(t *testing.T) {
	set := map[string]any{"metadata": annotationPatch("p")}
	remove := map[string]any{"metadata": annotationPatch(nil)}
	has := svcWith(map[string]string{config.AnnotationAllocatedFromPool: "p"})
	lacks := svcWith(nil)
	tests := []struct {
		name string
		out  *corev1.Service
		body map[string]any
		want bool
	}{
		{"set and kept", has, set, true},
		{"set and dropped", lacks, set, false},
		{"removed", lacks, remove, true},
		{"removal not kept", has, remove, false},
		{"no annotation in the patch", lacks, map[string]any{"status": nil}, true},
		{"metadata without annotations", lacks, map[string]any{"metadata": map[string]any{"uid": "u"}}, true},
	}
	for _, tt := range tests {
		if got := keptAnnotation(tt.out, tt.body); got != tt.want {
			t.Errorf("%s: keptAnnotation = %v, want %v", tt.name, got, tt.want)
		}
	}
}
