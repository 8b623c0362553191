package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// Event reasons on Services.
const (
	ReasonIPAllocated      = "IPAllocated"
	ReasonAllocationFailed = "AllocationFailed"
	ReasonAddressOrphaned  = "AddressOrphaned"
	ReasonIPReleased       = "IPReleased"
)

// ServiceReconciler gives LoadBalancer Services their IPs.
type ServiceReconciler struct {
	client   ctrl.Client
	reader   ctrl.Reader // the informer cache
	recorder record.EventRecorder
	metrics  *metrics.Controller
	st       *state
	class    kube.ClassPolicy
	// poolDelay coalesces pool status writes.
	poolDelay time.Duration
}

// Reconcile allocates, keeps or releases the IPs of one Service.
func (r *ServiceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := catchUp(ctx, r.st, r.reader, r.recorder, r.class); err != nil {
		return reconcile.Result{}, err
	}
	k := req.String()
	var svc corev1.Service
	if err := r.reader.Get(ctx, req.NamespacedName, &svc); err != nil {
		if apierrors.IsNotFound(err) {
			if a, ok := r.st.release(k); ok {
				r.st.enqueuePool(a.Pool, r.poolDelay)
			}
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	if r.st.stale(k, svc.ResourceVersion) {
		// Our own last write is not in the cache yet; its event will bring
		// the Service back.
		return reconcile.Result{}, nil
	}
	if !r.class.Handles(&svc) || svc.DeletionTimestamp != nil {
		return reconcile.Result{}, r.letGo(ctx, &svc)
	}
	var ns corev1.Namespace
	if err := r.reader.Get(ctx, types.NamespacedName{Name: svc.Namespace}, &ns); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	areq, err := config.Request(&svc, ns.Labels)
	if err != nil {
		r.fail(&svc, err)
		return reconcile.Result{}, nil
	}
	current := kube.IngressIPs(&svc)
	if areq.Pool != "" && r.st.closed(areq.Pool) && len(current) == 0 {
		r.fail(&svc, fmt.Errorf("pool %q is being deleted and gives out no new address: %w", areq.Pool, ipam.ErrPoolNotAllowed))
		return reconcile.Result{}, nil
	}
	a, prevPool, err := r.st.allocate(areq, current)
	if err != nil {
		r.fail(&svc, err)
		return reconcile.Result{}, nil
	}
	r.st.enqueuePool(a.Pool, r.poolDelay)
	if prevPool != a.Pool {
		r.st.enqueuePool(prevPool, r.poolDelay)
	}
	return reconcile.Result{}, r.apply(ctx, &svc, a)
}

// apply writes the assignment: the status, which is what clients wait for,
// and the pool annotation. Each is skipped when already in place.
//
// The Service status subresource, unlike most, keeps changes to metadata, so
// one status patch carries both. The patched object says whether the
// annotation landed; if an apiserver dropped it, a metadata patch follows.
func (r *ServiceReconciler) apply(ctx context.Context, svc *corev1.Service, a ipam.Assignment) error {
	want := ingressFor(a.IPs)
	annotate := a.Pool != "" && svc.Annotations[config.AnnotationAllocatedFromPool] != a.Pool
	if !sameIngress(svc.Status.LoadBalancer.Ingress, want) {
		body := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": want}}}
		if annotate {
			body["metadata"] = annotationPatch(a.Pool)
		}
		out, err := r.patch(ctx, svc, body, true)
		if err != nil {
			return fmt.Errorf("patch status of service %s: %w", key(svc), err)
		}
		annotate = annotate && out.Annotations[config.AnnotationAllocatedFromPool] != a.Pool
		if !ipam.SameIPs(kube.IngressIPs(svc), a.IPs) {
			r.recorder.Eventf(svc, corev1.EventTypeNormal, ReasonIPAllocated, "Assigned IP %s from pool %q", joinIPs(a), a.Pool)
		}
	}
	if annotate {
		if _, err := r.patch(ctx, svc, map[string]any{"metadata": annotationPatch(a.Pool)}, false); err != nil {
			return fmt.Errorf("annotate service %s: %w", key(svc), err)
		}
	}
	return nil
}

// annotationPatch sets the pool annotation, or removes it when pool is nil.
func annotationPatch(pool any) map[string]any {
	return map[string]any{"annotations": map[string]any{config.AnnotationAllocatedFromPool: pool}}
}

// letGo releases the IPs of a Service that is no longer ours (deleted, type
// or class changed) and removes what we wrote to it. A Service we never
// handled is not written to, and neither is a status that is no longer ours:
// after a class change, another implementation may already have written its
// own.
func (r *ServiceReconciler) letGo(ctx context.Context, svc *corev1.Service) error {
	a, held := r.st.release(key(svc))
	if held {
		r.st.enqueuePool(a.Pool, r.poolDelay)
	}
	if svc.DeletionTimestamp != nil {
		return nil
	}
	pool, annotated := svc.Annotations[config.AnnotationAllocatedFromPool]
	current := kube.IngressIPs(svc)
	ours := len(current) > 0 && (held && ipam.SameIPs(current, a.IPs) || !held && annotated && r.st.inPool(pool, current))
	if !ours && !annotated {
		return nil
	}
	if ours {
		body := map[string]any{"status": map[string]any{"loadBalancer": map[string]any{"ingress": nil}}}
		if annotated {
			body["metadata"] = annotationPatch(nil)
		}
		out, err := r.patch(ctx, svc, body, true)
		if err != nil {
			return fmt.Errorf("clear status of service %s: %w", key(svc), err)
		}
		_, annotated = out.Annotations[config.AnnotationAllocatedFromPool]
		if held {
			r.recorder.Eventf(svc, corev1.EventTypeNormal, ReasonIPReleased, "Released IP %s: the Service is no longer a LoadBalancer of class %q", strings.Join(ipStrings(kube.IngressIPs(svc)), ","), r.class.Class)
		}
	}
	if annotated {
		if _, err := r.patch(ctx, svc, map[string]any{"metadata": annotationPatch(nil)}, false); err != nil {
			return fmt.Errorf("remove annotation of service %s: %w", key(svc), err)
		}
	}
	return nil
}

// patch sends a JSON merge patch without resourceVersion, so it never
// conflicts, and remembers the resourceVersion it produced.
func (r *ServiceReconciler) patch(ctx context.Context, svc *corev1.Service, body map[string]any, status bool) (*corev1.Service, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	out := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name}}
	p := ctrl.RawPatch(types.MergePatchType, data)
	if status {
		err = r.client.Status().Patch(ctx, out, p)
	} else {
		err = r.client.Patch(ctx, out, p)
	}
	if err != nil {
		return nil, err
	}
	r.st.wrote(key(svc), out.ResourceVersion)
	return out, nil
}

// fail reports an allocation failure on the Service and in the metrics.
func (r *ServiceReconciler) fail(svc *corev1.Service, err error) {
	reason := ipam.Reason(err)
	r.metrics.AllocationErrors.WithLabelValues(reason).Inc()
	r.recorder.Event(svc, corev1.EventTypeWarning, ReasonAllocationFailed, err.Error())
	log.Log.V(1).Info("allocation failed", "service", key(svc), "reason", reason, "error", err.Error())
}

// catchUp brings the allocator up to date before either reconciler acts:
// every assignment loaded once, then pool edits applied, with a warning to
// each Service an edit orphaned.
func catchUp(ctx context.Context, st *state, c ctrl.Reader, rec record.EventRecorder, class kube.ClassPolicy) error {
	if err := st.ensureLoaded(ctx, c, class.Handles); err != nil {
		return err
	}
	notes, err := st.syncPools(ctx, c)
	if err != nil {
		return err
	}
	warnOrphans(ctx, c, rec, notes)
	return nil
}

func warnOrphans(ctx context.Context, c ctrl.Reader, rec record.EventRecorder, notes []orphanNote) {
	for _, n := range notes {
		ns, name, _ := strings.Cut(n.key, "/")
		var svc corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &svc); err != nil {
			continue
		}
		rec.Eventf(&svc, corev1.EventTypeWarning, ReasonAddressOrphaned,
			"IP %s is no longer in pool %q after the pool was edited; the Service keeps it, but no pool covers it", strings.Join(ipStrings(n.ips), ","), n.pool)
	}
}

func joinIPs(a ipam.Assignment) string { return strings.Join(ipStrings(a.IPs), ",") }
