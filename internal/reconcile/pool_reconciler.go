package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// FinalizerPoolProtection keeps a pool whose addresses are in use.
const FinalizerPoolProtection = "heraldlb.io/pool-protection"

// PoolReconciler keeps pool status, and the deletion-protection finalizer.
//
// A request with an empty name is not a pool: it asks the reconciler to
// enqueue every pool, because a change to one pool can change whether
// another overlaps it.
type PoolReconciler struct {
	client   client.Client
	reader   client.Reader // the informer cache
	api      client.Reader // the apiserver itself, for the start-up barrier
	recorder record.EventRecorder
	metrics  *metrics.Controller
	st       *state
	class    kube.ClassPolicy
	clock    clock.PassiveClock
}

// Reconcile brings one pool's finalizer and status up to date.
func (r *PoolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if req.Name == "" {
		return reconcile.Result{}, r.enqueueAll(ctx)
	}
	return result(r.st.lead(ctx, "ipaddresspool", func(term uint64) error { return r.reconcile(ctx, term, req) }))
}

func (r *PoolReconciler) reconcile(ctx context.Context, term uint64, req reconcile.Request) error {
	if err := catchUp(ctx, term, r.st, r.reader, r.api, r.recorder, r.class); err != nil {
		return err
	}
	var pool v1beta1.IPAddressPool
	if err := r.reader.Get(ctx, req.NamespacedName, &pool); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get pool %s: %w", req.Name, err)
		}
		r.metrics.ForgetPool(req.Name)
		r.st.done(term, kindPool, req.Name, "")
		return nil
	}
	if err := r.update(ctx, term, &pool); err != nil {
		return err
	}
	r.st.done(term, kindPool, pool.Name, pool.ResourceVersion)
	return nil
}

func (r *PoolReconciler) update(ctx context.Context, term uint64, pool *v1beta1.IPAddressPool) error {
	facts, err := r.st.poolFacts(term, pool.Name)
	if err != nil {
		return err
	}
	deleting := pool.DeletionTimestamp != nil
	protected := slices.Contains(pool.Finalizers, FinalizerPoolProtection)
	switch {
	case deleting && facts.Users == 0:
		if protected {
			return r.setFinalizer(ctx, term, pool, false)
		}
		return nil
	case !deleting && !protected:
		if err := r.setFinalizer(ctx, term, pool, true); err != nil {
			return err
		}
	}
	r.observe(pool.Name, facts)
	want := poolStatus(pool.Status, pool.Generation, deleting, facts, metav1.NewTime(r.clock.Now()))
	if equality.Semantic.DeepEqual(pool.Status, want) {
		return nil
	}
	data, err := json.Marshal(map[string]any{"status": want})
	if err != nil {
		return fmt.Errorf("encode status of pool %s: %w", pool.Name, err)
	}
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return err
	}
	defer cancel()
	out := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: pool.Name}}
	if err := r.client.Status().Patch(wctx, out, client.RawPatch(types.MergePatchType, data)); err != nil {
		// A pool deleted meanwhile needs no status.
		return client.IgnoreNotFound(r.st.fenced(wctx, ctx, fmt.Errorf("patch status of pool %s: %w", pool.Name, err)))
	}
	return nil
}

// setFinalizer adds or removes the protection finalizer, with an optimistic
// lock because a merge patch replaces the whole finalizer list.
func (r *PoolReconciler) setFinalizer(ctx context.Context, term uint64, pool *v1beta1.IPAddressPool, on bool) error {
	fins := slices.DeleteFunc(slices.Clone(pool.Finalizers), func(f string) bool { return f == FinalizerPoolProtection })
	if on {
		fins = append(fins, FinalizerPoolProtection)
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      fins,
		"resourceVersion": pool.ResourceVersion,
	}})
	if err != nil {
		return fmt.Errorf("encode finalizers of pool %s: %w", pool.Name, err)
	}
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return err
	}
	defer cancel()
	out := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: pool.Name}}
	if err := r.client.Patch(wctx, out, client.RawPatch(types.MergePatchType, data)); err != nil {
		if apierrors.IsConflict(err) {
			return fmt.Errorf("set finalizer of pool %s at version %s: %w", pool.Name, pool.ResourceVersion, errStale)
		}
		return client.IgnoreNotFound(r.st.fenced(wctx, ctx, fmt.Errorf("set finalizer of pool %s: %w", pool.Name, err)))
	}
	pool.ResourceVersion, pool.Finalizers = out.ResourceVersion, out.Finalizers
	return nil
}

func (r *PoolReconciler) observe(pool string, f poolFacts) {
	for _, fam := range []ipam.Family{ipam.IPv4, ipam.IPv6} {
		s := f.Stats.Family(fam)
		if s.Size == nil {
			r.metrics.AddressesInUse.WithLabelValues(pool, fam.String()).Set(0)
			r.metrics.AddressesTotal.WithLabelValues(pool, fam.String()).Set(0)
			continue
		}
		inUse, _ := s.InUse.Float64()
		total, _ := s.Size.Float64()
		r.metrics.AddressesInUse.WithLabelValues(pool, fam.String()).Set(inUse)
		r.metrics.AddressesTotal.WithLabelValues(pool, fam.String()).Set(total)
	}
}

// enqueueAll adds every pool to the queue.
func (r *PoolReconciler) enqueueAll(ctx context.Context) error {
	_, q := r.st.queues()
	if q == nil {
		return nil // the controller's own start lists every pool
	}
	var list v1beta1.IPAddressPoolList
	if err := r.reader.List(ctx, &list); err != nil {
		return fmt.Errorf("list pools to reconcile: %w", err)
	}
	for i := range list.Items {
		q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: list.Items[i].Name}})
	}
	return nil
}
