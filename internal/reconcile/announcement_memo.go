package reconcile

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
)

// last returns the status this term last applied for k, if any.
func (r *AnnouncementReconciler) last(k string) (v1beta1.ServiceAnnouncementStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.written[k]
	return st, ok
}

// note records the status of k (nil: it has none) and updates the
// unannounced gauge.
func (r *AnnouncementReconciler) note(k string, st *v1beta1.ServiceAnnouncementStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.written == nil {
		r.written = map[string]v1beta1.ServiceAnnouncementStatus{}
		r.unannounced = map[string]bool{}
	}
	delete(r.written, k)
	delete(r.unannounced, k)
	if st != nil {
		r.written[k] = *st
		if meta.IsStatusConditionFalse(st.Conditions, v1beta1.ServiceAnnounced) {
			r.unannounced[k] = true
		}
	}
	r.metrics.ServicesUnannounced.Set(float64(len(r.unannounced)))
}

// newTerm forgets what the last term wrote, since another leader may have
// written since, and enqueues every Service for a fresh look.
func (r *AnnouncementReconciler) newTerm(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	r.mu.Lock()
	r.written, r.unannounced = nil, nil
	r.mu.Unlock()
	if q == nil {
		return nil // a queue not started yet lists everything when it starts
	}
	reqs, err := r.services(ctx)
	if err != nil {
		return err
	}
	for _, req := range reqs {
		q.Add(req)
	}
	return nil
}

// services lists a request for every Service and every
// ServiceAnnouncement in the cache: those with IPs need one, the others
// may have one to delete.
func (r *AnnouncementReconciler) services(ctx context.Context) ([]reconcile.Request, error) {
	// Every HeraldNode write lists them: read-only, no copy.
	var svcs corev1.ServiceList
	if err := r.reader.List(ctx, &svcs, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var anns v1beta1.ServiceAnnouncementList
	if err := r.reader.List(ctx, &anns, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list serviceannouncements: %w", err)
	}
	seen := map[types.NamespacedName]bool{}
	var out []reconcile.Request
	add := func(n types.NamespacedName) {
		if !seen[n] {
			seen[n] = true
			out = append(out, reconcile.Request{NamespacedName: n})
		}
	}
	for _, s := range svcs.Items {
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			add(types.NamespacedName{Namespace: s.Namespace, Name: s.Name})
		}
	}
	for _, a := range anns.Items {
		add(types.NamespacedName{Namespace: a.Namespace, Name: a.Name})
	}
	return out, nil
}
