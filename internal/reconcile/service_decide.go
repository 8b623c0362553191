package reconcile

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
)

// The decisions of the Service path, as pure functions of what the
// reconciler read. The reconciler only gathers their inputs and applies
// their outputs.

// adoptAction is what becomes of IPs found in the status of a Service that
// holds nothing in this term's allocator: a status this term did not write,
// such as one from before a class change, from another implementation, or
// one that lost a conflict at the start-up barrier.
type adoptAction int

const (
	// adoptKeep: the IPs are recorded and the Service keeps them.
	adoptKeep adoptAction = iota
	// adoptReplace: the IPs are not the Service's to keep; it gets new ones,
	// and a Warning Event says why.
	adoptReplace
	// adoptRefuse: the IPs cannot be recorded, and nothing says they are
	// wrong; the status is left as it is, and a Warning Event says why.
	adoptRefuse
)

type adoptVerdict struct {
	Action adoptAction
	// Why explains a replacement, for the Event.
	Why string
	// Err is the failure to report for a refusal.
	Err error
}

// adopt decides about status IPs: inPool says whether one pool in force
// holds all of them, and assignErr is what recording them returned (nil
// when they were not recorded because inPool is false).
//
// Moving an IP is right in two cases only: the IP is outside every pool (it
// is not Herald's to give, so keeping it would hand out an address no pool
// covers), or another Service holds it (keeping it would give one IP to two
// Services). Anything else keeps the status as it is.
func adopt(inPool bool, assignErr error) adoptVerdict {
	switch {
	case !inPool:
		return adoptVerdict{Action: adoptReplace, Why: "they are not addresses of any one pool in force"}
	case assignErr == nil:
		return adoptVerdict{Action: adoptKeep}
	case errors.Is(assignErr, ipam.ErrIPInUse):
		return adoptVerdict{Action: adoptReplace, Why: assignErr.Error()}
	}
	return adoptVerdict{Action: adoptRefuse, Err: fmt.Errorf("record the IPs in the Service's status (they are left in place): %w", assignErr)}
}

// statusOurs reports whether the load-balancer status of a Service that we
// let go (deleted, or no longer of our class or type) was written by us, so
// that we may clear it. If we hold the Service, the status is ours when it
// shows what we hold. If we do not (we never handled it in this term), it is
// ours when it carries our pool annotation and every IP lies in that pool.
// An empty status is nobody's.
func statusOurs(current []netip.Addr, held bool, heldIPs []netip.Addr, annotated, inAnnotatedPool bool) bool {
	switch {
	case len(current) == 0:
		return false
	case held:
		return ipam.SameIPs(current, heldIPs)
	}
	return annotated && inAnnotatedPool
}

// annotationStale reports whether the pool annotation must be written for
// an assignment from pool: it is missing or names another pool. An
// assignment outside every pool (pool "") leaves the annotation alone.
func annotationStale(annotations map[string]string, pool string) bool {
	return pool != "" && annotations[config.AnnotationAllocatedFromPool] != pool
}

// assignPatch returns the merge patch, for the status subresource, that
// gives svc the assignment a: the ingress when it differs, and the pool
// annotation when it is stale. It is nil when svc already shows a.
//
// The Service status subresource keeps changes to metadata, unlike most, so
// one status patch carries both, and the controller needs no write access
// to Services themselves.
func assignPatch(svc *corev1.Service, a ipam.Assignment) map[string]any {
	body := map[string]any{}
	if want := ingressFor(a.IPs); !sameIngress(svc.Status.LoadBalancer.Ingress, want) {
		body["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": want}}
	}
	if annotationStale(svc.Annotations, a.Pool) {
		body["metadata"] = annotationPatch(a.Pool)
	}
	if len(body) == 0 {
		return nil
	}
	return body
}

// releasePatch returns the merge patch, for the status subresource, that
// removes what we wrote to a Service we let go: the status when it is ours,
// and the pool annotation when present. It is nil when there is nothing to
// remove.
func releasePatch(svc *corev1.Service, ours bool) map[string]any {
	body := map[string]any{}
	if ours {
		body["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": nil}}
	}
	if _, ok := svc.Annotations[config.AnnotationAllocatedFromPool]; ok {
		body["metadata"] = annotationPatch(nil)
	}
	if len(body) == 0 {
		return nil
	}
	return body
}

// annotationPatch sets the pool annotation, or removes it when pool is nil.
func annotationPatch(pool any) map[string]any {
	return map[string]any{"annotations": map[string]any{config.AnnotationAllocatedFromPool: pool}}
}

// keptAnnotation reports whether a patched Service carries the annotation
// the patch asked for (nil: removed).
func keptAnnotation(out *corev1.Service, body map[string]any) bool {
	md, _ := body["metadata"].(map[string]any)
	anns, ok := md["annotations"].(map[string]any)
	if !ok {
		return true
	}
	want, ok := anns[config.AnnotationAllocatedFromPool]
	if !ok {
		return true
	}
	got, has := out.Annotations[config.AnnotationAllocatedFromPool]
	if want == nil {
		return !has
	}
	return has && got == want
}

// replacedMessage is the Event of an adoptReplace.
func replacedMessage(old []netip.Addr, why string, a ipam.Assignment) string {
	return fmt.Sprintf("IP %s in the Service's status replaced by %s from pool %q: %s",
		strings.Join(ipStrings(old), ","), strings.Join(ipStrings(a.IPs), ","), a.Pool, why)
}
