package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/heraldlb/herald/api/v1beta1"
)

// defaultAnnouncementGrace is how long an IP may go unannounced before the
// Service gets a NoAnnouncer warning: longer than a Layer 2 failover and
// the speakers' HeraldNode writes that report it.
const defaultAnnouncementGrace = 10 * time.Second

// announcementQueue holds the announcement controller's queue once it
// starts, so that a new term can fill it.
type announcementQueue struct {
	mu sync.Mutex
	q  workqueue.TypedRateLimitingInterface[reconcile.Request]
}

func (a *announcementQueue) source() source.TypedSource[reconcile.Request] {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.q = q
		return nil
	})
}

func (a *announcementQueue) get() workqueue.TypedRateLimitingInterface[reconcile.Request] {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q
}

// setupAnnouncements adds the ServiceAnnouncement controller. It returns
// what a new term must call. Every HeraldNode change wakes every Service
// with an IP: the queue collapses repeats, and a HeraldNode does not say
// which Services its BGP routes are for.
func setupAnnouncements(mgr ctrl.Manager, o Options, st *state, rec record.EventRecorder, quiet *allocationQuiet) (func(context.Context), error) {
	r := &AnnouncementReconciler{
		client: mgr.GetClient(), reader: mgr.GetCache(), recorder: rec,
		metrics: o.Metrics, st: st, class: o.Class, clock: o.Clock, grace: o.AnnouncementGrace, quiet: quiet,
	}
	aq := &announcementQueue{}
	all := func(ctx context.Context, _ client.Object) []reconcile.Request {
		reqs, err := r.services(ctx)
		if err != nil {
			log.FromContext(ctx).Error(err, "list services for a HeraldNode change")
		}
		return reqs
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("serviceannouncement").
		For(&corev1.Service{}).
		Owns(&v1beta1.ServiceAnnouncement{}).
		Watches(&v1beta1.HeraldNode{}, handler.EnqueueRequestsFromMapFunc(all)).
		WatchesRawSource(aq.source()).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(r)
	if err != nil {
		return nil, fmt.Errorf("set up serviceannouncement controller: %w", err)
	}
	onTerm := func(ctx context.Context) {
		if err := r.newTerm(ctx, aq.get()); err != nil {
			o.Log.Error(err, "enqueue services for their announcements")
		}
	}
	return onTerm, nil
}
