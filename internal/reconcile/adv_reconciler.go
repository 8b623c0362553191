package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/internal/config"
)

// ReadinessReconciler keeps the Ready condition of L2Advertisements,
// BGPAdvertisements, BGPPeers and Communities. Each verdict depends on other
// objects (the pools an advertisement names, the peers and aliases), and
// there are few of them, so every request, whatever its name, recomputes
// them all from the cache and writes only those that changed.
type ReadinessReconciler struct {
	client client.Client
	reader client.Reader // the informer cache
	st     *state
	clock  clock.PassiveClock

	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// Reconcile brings every Ready condition up to date.
func (r *ReadinessReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	return result(r.st.lead(ctx, "readiness", func(term uint64) error { return r.reconcile(ctx, term) }))
}

func (r *ReadinessReconciler) reconcile(ctx context.Context, term uint64) error {
	objs, targets, err := gatherReadiness(ctx, r.reader)
	if err != nil {
		return err
	}
	verdicts := config.Readiness(objs)
	now := metav1.NewTime(r.clock.Now())
	var errs []error
	for _, t := range targets {
		v, ok := verdicts[t.key]
		if !ok {
			continue
		}
		want := readyConditions(*t.conds, t.obj.GetGeneration(), v, now)
		if equality.Semantic.DeepEqual(*t.conds, want) {
			continue
		}
		errs = append(errs, r.write(ctx, term, t, want))
	}
	return errors.Join(errs...)
}

// write patches one object's conditions, guarded by its resourceVersion:
// the merge patch replaces the whole list, so a newer version, whose
// conditions this reconcile has not seen, must win and be recomputed.
func (r *ReadinessReconciler) write(ctx context.Context, term uint64, t readinessTarget, want []metav1.Condition) error {
	orig := t.obj.DeepCopyObject().(client.Object)
	*t.conds = want
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return err
	}
	defer cancel()
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	switch err := r.client.Status().Patch(wctx, t.obj, patch); {
	case err == nil, apierrors.IsNotFound(err): // one deleted meanwhile needs no status
		return nil
	case apierrors.IsConflict(err):
		return fmt.Errorf("write Ready of %s at version %s: %w", t.key, orig.GetResourceVersion(), errStale)
	default:
		return r.st.fenced(wctx, ctx, fmt.Errorf("write Ready of %s: %w", t.key, err))
	}
}

// setQueue records the controller's queue, once it starts.
func (r *ReadinessReconciler) setQueue(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = q
}

// requeue asks for a recomputation: a new term does, since a standby drops
// its work.
func (r *ReadinessReconciler) requeue(context.Context, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.queue != nil {
		r.queue.Add(reconcile.Request{})
	}
	// A queue not started yet gets the watches' initial events.
}
