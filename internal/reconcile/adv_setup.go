package reconcile

import (
	"context"
	"fmt"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/heraldlb/herald/api/v1beta1"
)

// setupReadiness adds the controller of the advertisements', peers' and
// communities' Ready condition. Every watched change makes the same request:
// the verdicts depend on each other, and are recomputed together.
func setupReadiness(mgr ctrl.Manager, o Options, st *state) (*ReadinessReconciler, error) {
	r := &ReadinessReconciler{client: mgr.GetClient(), reader: mgr.GetCache(), st: st, clock: o.Clock}
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{}}
	})
	// Spec changes only: our own status writes must not come back as work.
	spec := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	err := ctrl.NewControllerManagedBy(mgr).
		Named("readiness").
		// Pool labels matter too: ipAddressPoolSelectors select by them.
		Watches(&v1beta1.IPAddressPool{}, all, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&v1beta1.L2Advertisement{}, all, spec).
		Watches(&v1beta1.BGPAdvertisement{}, all, spec).
		Watches(&v1beta1.BGPPeer{}, all, spec).
		Watches(&v1beta1.Community{}, all, spec).
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			r.setQueue(q)
			return nil
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(r)
	if err != nil {
		return nil, fmt.Errorf("set up readiness controller: %w", err)
	}
	return r, nil
}
