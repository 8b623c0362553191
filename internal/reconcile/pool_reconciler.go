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
type PoolReconciler struct {
	client   client.Client
	reader   client.Reader
	recorder record.EventRecorder
	metrics  *metrics.Controller
	st       *state
	class    kube.ClassPolicy
	clock    clock.PassiveClock
}

// Reconcile brings one pool's finalizer and status up to date.
func (r *PoolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := catchUp(ctx, r.st, r.reader, r.recorder, r.class); err != nil {
		return reconcile.Result{}, err
	}

	var pool v1beta1.IPAddressPool
	if err := r.reader.Get(ctx, req.NamespacedName, &pool); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.ForgetPool(req.Name)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	facts := r.st.poolFacts(pool.Name)
	deleting := pool.DeletionTimestamp != nil
	protected := slices.Contains(pool.Finalizers, FinalizerPoolProtection)
	switch {
	case deleting && facts.Users == 0:
		if protected {
			return reconcile.Result{}, r.setFinalizer(ctx, &pool, false)
		}
		return reconcile.Result{}, nil
	case !deleting && !protected:
		if err := r.setFinalizer(ctx, &pool, true); err != nil {
			return reconcile.Result{}, err
		}
	}
	r.observe(pool.Name, facts)
	want := poolStatus(pool.Status, pool.Generation, deleting, facts, metav1.NewTime(r.clock.Now()))
	if equality.Semantic.DeepEqual(pool.Status, want) {
		return reconcile.Result{}, nil
	}
	data, err := json.Marshal(map[string]any{"status": want})
	if err != nil {
		return reconcile.Result{}, err
	}
	out := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: pool.Name}}
	if err := r.client.Status().Patch(ctx, out, client.RawPatch(types.MergePatchType, data)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(fmt.Errorf("patch status of pool %s: %w", pool.Name, err))
	}
	return reconcile.Result{}, nil
}

// setFinalizer adds or removes the protection finalizer, with an optimistic
// lock because a merge patch replaces the whole finalizer list.
func (r *PoolReconciler) setFinalizer(ctx context.Context, pool *v1beta1.IPAddressPool, on bool) error {
	fins := slices.DeleteFunc(slices.Clone(pool.Finalizers), func(f string) bool { return f == FinalizerPoolProtection })
	if on {
		fins = append(fins, FinalizerPoolProtection)
	}
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"finalizers":      fins,
		"resourceVersion": pool.ResourceVersion,
	}})
	if err != nil {
		return err
	}
	out := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: pool.Name}}
	if err := r.client.Patch(ctx, out, client.RawPatch(types.MergePatchType, data)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("set finalizer of pool %s: %w", pool.Name, err))
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
