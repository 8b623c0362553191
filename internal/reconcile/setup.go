package reconcile

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// Options configure the controller's reconcilers.
type Options struct {
	// Class says which Services are ours.
	Class kube.ClassPolicy
	// Workers is the number of Services reconciled at once. Default 8.
	Workers int
	// PoolStatusDelay is how long pool status writes wait so that a burst of
	// allocations makes one write. Default 1s.
	PoolStatusDelay time.Duration
	// Metrics are the collectors to update; nil means unregistered ones.
	Metrics *metrics.Controller
	// Clock stamps condition transitions; nil means the real clock.
	Clock clock.PassiveClock
	// SkipNameValidation lets tests run several managers in one process.
	SkipNameValidation bool
}

// Setup adds the Service and IPAddressPool reconcilers to mgr. They share
// one allocator.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.PoolStatusDelay <= 0 {
		o.PoolStatusDelay = time.Second
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewController()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	st := newState()
	events := newDeferredEvents(mgr.GetEventRecorderFor("herald-controller"), clock.RealClock{}, defaultEventPace)
	if err := mgr.Add(events); err != nil {
		return fmt.Errorf("add event pacer: %w", err)
	}
	var rec record.EventRecorder = events
	svcR := &ServiceReconciler{
		client: mgr.GetClient(), reader: mgr.GetCache(), recorder: rec, metrics: o.Metrics,
		st: st, class: o.Class, poolDelay: o.PoolStatusDelay,
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("service").
		For(&corev1.Service{}).
		Watches(&v1beta1.IPAddressPool{}, handler.EnqueueRequestsFromMapFunc(svcR.pendingServices), builder.WithPredicates(specOrDeletionChanged())).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(svcR.pendingInNamespace), builder.WithPredicates(labelsChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: o.Workers, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(svcR)
	if err != nil {
		return fmt.Errorf("set up service controller: %w", err)
	}
	poolR := &PoolReconciler{
		client: mgr.GetClient(), reader: mgr.GetCache(), recorder: rec, metrics: o.Metrics,
		st: st, class: o.Class, clock: o.Clock,
	}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("ipaddresspool").
		// Our own status writes do not come back as work: status is
		// refreshed through the delayed queue (see enqueuePool).
		For(&v1beta1.IPAddressPool{}, builder.WithPredicates(specOrDeletionChanged())).
		// A change to one pool can change the overlap verdict of another.
		Watches(&v1beta1.IPAddressPool{}, handler.EnqueueRequestsFromMapFunc(poolR.allPools), builder.WithPredicates(specOrDeletionChanged())).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			st.qmu.Lock()
			defer st.qmu.Unlock()
			st.poolQ = q
			return nil
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(poolR)
	if err != nil {
		return fmt.Errorf("set up pool controller: %w", err)
	}
	return nil
}

// pendingServices maps a pool change to the Services still waiting for an
// IP: they may be served now.
func (r *ServiceReconciler) pendingServices(ctx context.Context, _ client.Object) []reconcile.Request {
	return r.pending(ctx)
}

func (r *ServiceReconciler) pendingInNamespace(ctx context.Context, ns client.Object) []reconcile.Request {
	return r.pending(ctx, client.InNamespace(ns.GetName()))
}

func (r *ServiceReconciler) pending(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list corev1.ServiceList
	if err := r.reader.List(ctx, &list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		svc := &list.Items[i]
		if r.class.Handles(svc) && len(svc.Status.LoadBalancer.Ingress) == 0 {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(svc)})
		}
	}
	return out
}

func (r *PoolReconciler) allPools(ctx context.Context, _ client.Object) []reconcile.Request {
	var list v1beta1.IPAddressPoolList
	if err := r.reader.List(ctx, &list); err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Name: list.Items[i].Name}})
	}
	return out
}

// specOrDeletionChanged passes creations, deletions, and updates that change
// the spec (generation) or start deletion, but not status-only updates.
func specOrDeletionChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() ||
				(e.ObjectOld.GetDeletionTimestamp() == nil) != (e.ObjectNew.GetDeletionTimestamp() == nil)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func labelsChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		DeleteFunc: func(event.DeleteEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
