package reconcile

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/go-logr/logr"
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
	// Leader says how replicas elect the one that allocates. The zero value
	// leads at once: run a single replica then. The manager's own leader
	// election must be off.
	Leader LeaderElection
	// Metrics are the collectors to update; nil means unregistered ones.
	Metrics *metrics.Controller
	// Clock stamps condition transitions; nil means the real clock.
	Clock clock.PassiveClock
	// Log receives what the reconcilers have to say outside a reconcile;
	// the zero value means the manager's logger.
	Log logr.Logger
	// SpeakerSecrets, when set, keeps the speakers' Secrets Role up to
	// date (see SecretsRoleCache for the cache it needs).
	SpeakerSecrets *SpeakerSecrets
	// AnnouncementGrace is how long an IP may go unannounced before its
	// Service gets a NoAnnouncer warning. Default 10s.
	AnnouncementGrace time.Duration
	// AllocationQuiet is how long allocations must pause before
	// ServiceAnnouncements are written; AnnouncementDelay bounds how long
	// one waits for that. Defaults 500ms and 5s.
	AllocationQuiet, AnnouncementDelay time.Duration
	// SkipNameValidation lets tests run several managers in one process.
	SkipNameValidation bool
}

// Setup adds the Service, IPAddressPool, ServiceAnnouncement and readiness
// reconcilers to mgr, and the leader election that decides when they act.
// The first two share one allocator.
func Setup(mgr ctrl.Manager, o Options) error {
	_, err := setup(mgr, o)
	return err
}

// setup is Setup, returning the shared state for tests to observe.
func setup(mgr ctrl.Manager, o Options) (*state, error) {
	o.defaults(mgr)
	st := newState(o.Metrics)
	quiet := newAllocationQuiet(clock.RealClock{}, o.AllocationQuiet, o.AnnouncementDelay)
	events := newDeferredEvents(mgr.GetEventRecorderFor("herald-controller"), clock.RealClock{}, defaultEventPace)
	if err := mgr.Add(events); err != nil {
		return nil, fmt.Errorf("add event pacer: %w", err)
	}
	svcR, err := setupServices(mgr, o, st, events, quiet)
	if err != nil {
		return nil, err
	}
	if err := setupPools(mgr, o, st, events); err != nil {
		return nil, err
	}
	annTerm, err := setupAnnouncements(mgr, o, st, events, quiet)
	if err != nil {
		return nil, err
	}
	if o.SpeakerSecrets != nil {
		if err := setupSecretsRole(mgr, *o.SpeakerSecrets, o.SkipNameValidation); err != nil {
			return nil, err
		}
	}
	readyR, err := setupReadiness(mgr, o, st)
	if err != nil {
		return nil, err
	}
	announceOnTerm := func(ctx context.Context, _ uint64) { annTerm(ctx) }
	if err := setupLeadership(mgr, o, st, svcR, announceOnTerm, readyR.requeue); err != nil {
		return nil, err
	}
	return st, nil
}

func (o *Options) defaults(mgr ctrl.Manager) {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.PoolStatusDelay <= 0 {
		o.PoolStatusDelay = time.Second
	}
	if o.AnnouncementGrace <= 0 {
		o.AnnouncementGrace = defaultAnnouncementGrace
	}
	if o.AllocationQuiet <= 0 {
		o.AllocationQuiet = defaultAllocationQuiet
	}
	if o.AnnouncementDelay <= 0 {
		o.AnnouncementDelay = defaultAnnouncementDelay
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewController()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Log.GetSink() == nil {
		o.Log = mgr.GetLogger()
	}
}

// setupServices adds the Service controller, which pool and namespace
// changes wake too: they may serve Services still waiting for an IP.
func setupServices(mgr ctrl.Manager, o Options, st *state, rec record.EventRecorder, quiet *allocationQuiet) (*ServiceReconciler, error) {
	svcR := &ServiceReconciler{
		client: mgr.GetClient(), reader: mgr.GetCache(), api: mgr.GetAPIReader(), recorder: rec, metrics: o.Metrics,
		st: st, class: o.Class, poolDelay: o.PoolStatusDelay, quiet: quiet,
	}
	pending := func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{enqueueRequest("")}
	}
	pendingIn := func(_ context.Context, ns client.Object) []reconcile.Request {
		return []reconcile.Request{enqueueRequest(ns.GetName())}
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("service").
		For(&corev1.Service{}).
		Watches(&v1beta1.IPAddressPool{}, handler.EnqueueRequestsFromMapFunc(pending), builder.WithPredicates(specOrDeletionChanged())).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(pendingIn), builder.WithPredicates(labelsChanged())).
		WatchesRawSource(captureQueue(st, false)).
		WithOptions(controller.Options{MaxConcurrentReconciles: o.Workers, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(svcR)
	if err != nil {
		return nil, fmt.Errorf("set up service controller: %w", err)
	}
	return svcR, nil
}

// setupPools adds the pool controller.
func setupPools(mgr ctrl.Manager, o Options, st *state, rec record.EventRecorder) error {
	poolR := &PoolReconciler{
		client: mgr.GetClient(), reader: mgr.GetCache(), api: mgr.GetAPIReader(), recorder: rec, metrics: o.Metrics,
		st: st, class: o.Class, clock: o.Clock,
	}
	all := func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{{}} }
	err := ctrl.NewControllerManagedBy(mgr).
		Named("ipaddresspool").
		// Our own status writes do not come back as work: status is
		// refreshed through the delayed queue (see enqueuePool).
		For(&v1beta1.IPAddressPool{}, builder.WithPredicates(specOrDeletionChanged())).
		// A change to one pool can change the overlap verdict of another.
		Watches(&v1beta1.IPAddressPool{}, handler.EnqueueRequestsFromMapFunc(all), builder.WithPredicates(specOrDeletionChanged())).
		WatchesRawSource(captureQueue(st, true)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: ptr.To(o.SkipNameValidation)}).
		Complete(poolR)
	if err != nil {
		return fmt.Errorf("set up pool controller: %w", err)
	}
	return nil
}

// setupLeadership adds leader election; each new term requeues everything
// and sweeps the Services; hooks requeue the other controllers.
func setupLeadership(mgr ctrl.Manager, o Options, st *state, svcR *ServiceReconciler, hooks ...func(context.Context, uint64)) error {
	onTerm := func(ctx context.Context, term uint64) {
		svcQ, poolQ := st.queues()
		if svcQ != nil {
			svcQ.Add(enqueueRequest(allServices))
		}
		if poolQ != nil {
			poolQ.Add(reconcile.Request{})
		}
		for _, h := range hooks {
			h(ctx, term)
		}
		// A queue not started yet lists everything when it starts.
		svcR.sweep(ctx, term, clock.RealClock{}, sweepEvery)
	}
	lead, err := newLeadership(mgr.GetConfig(), o.Leader, st, o.Log.WithName("leader"), onTerm)
	if err != nil {
		return err
	}
	if err := mgr.Add(lead); err != nil {
		return fmt.Errorf("add leader election: %w", err)
	}
	return nil
}

// captureQueue is a source that only records a controller's queue, so that
// the reconcilers can add work to each other's queues.
func captureQueue(st *state, pool bool) source.TypedSource[reconcile.Request] {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		st.setQueue(pool, q)
		return nil
	})
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
