package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

func TestPoolDeletionProtection(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "prot")
	createPool(t, "prot", ns, []string{"198.51.100.80/29"})
	createService(t, ns, "user")
	waitIPs(t, ns, "user", 1)
	eventually(t, 10*time.Second, func() error {
		if !slices.Contains(getPool(t, "prot").Finalizers, FinalizerPoolProtection) {
			return fmt.Errorf("no finalizer yet")
		}
		return nil
	})
	if err := env.Client.Delete(context.Background(), getPool(t, "prot")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		c := condition(getPool(t, "prot"), ConditionDeleting)
		if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "1 Service ") {
			return fmt.Errorf("Deleting condition = %+v", c)
		}
		return nil
	})
	// No new allocation from a pool being deleted.
	createService(t, ns, "late", withAnnotation("heraldlb.io/address-pool", "prot"))
	waitEvent(t, ns, "late", ReasonAllocationFailed, "being deleted")
	if ips := getService(t, ns, "user").Status.LoadBalancer.Ingress; len(ips) != 1 {
		t.Errorf("the user of a pool being deleted lost its IP: %v", ips)
	}
	if err := env.Client.Delete(context.Background(), getService(t, ns, "user")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKey{Name: "prot"}, &v1beta1.IPAddressPool{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("pool still there: %v", err)
		}
		return nil
	})
}

func TestOverlapCondition(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	m := startManager(t, nil)
	cleanup(t, ns, "ov-a-old", "ov-b-new")
	createPool(t, "ov-a-old", ns, []string{"198.51.100.96/28"})
	createPool(t, "ov-b-new", ns, []string{"198.51.100.100-198.51.100.120"})
	eventually(t, 10*time.Second, func() error {
		newer := condition(getPool(t, "ov-b-new"), ConditionReady)
		if newer == nil || newer.Status != metav1.ConditionFalse || newer.Reason != "Overlap" || !strings.Contains(newer.Message, `"ov-a-old"`) {
			return fmt.Errorf("newer pool Ready = %+v", newer)
		}
		older := condition(getPool(t, "ov-a-old"), ConditionReady)
		if older == nil || older.Status != metav1.ConditionTrue {
			return fmt.Errorf("older pool Ready = %+v", older)
		}
		return nil
	})
	// The overlap shows in the config gauges, MetalLB's stale_bool's source.
	eventually(t, 10*time.Second, func() error {
		if l, s := testutil.ToFloat64(m.metrics.ConfigLoaded), testutil.ToFloat64(m.metrics.ConfigStale); l != 1 || s != 1 {
			return fmt.Errorf("config loaded %v, stale %v with a pool left out; want 1, 1", l, s)
		}
		return nil
	})
	// The older pool keeps working.
	createService(t, ns, "s", withAnnotation("heraldlb.io/address-pool", "ov-a-old"))
	waitIPs(t, ns, "s", 1)
	// Once the older pool is gone, the newer one is in force.
	if err := env.Client.Delete(context.Background(), getService(t, ns, "s")); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), getPool(t, "ov-a-old")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if c := condition(getPool(t, "ov-b-new"), ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
			return fmt.Errorf("newer pool Ready = %+v after the older was deleted", c)
		}
		return nil
	})
}

func TestPoolEditOrphans(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "edit")
	createPool(t, "edit", ns, []string{"198.51.100.128/29"})
	createService(t, ns, "keeper")
	ip := waitIPs(t, ns, "keeper", 1)[0]

	eventually(t, 10*time.Second, func() error {
		p := getPool(t, "edit")
		p.Spec.Addresses = []v1beta1.AddressRange{"198.51.100.136/29"}
		return env.Client.Update(context.Background(), p) // retried on conflict
	})
	waitEvent(t, ns, "keeper", ReasonAddressOrphaned, ip)
	eventually(t, 10*time.Second, func() error {
		p := getPool(t, "edit")
		c := condition(p, ConditionAddressesOrphaned)
		if c == nil || c.Status != metav1.ConditionTrue || !strings.HasPrefix(c.Message, "1 Service ") {
			return fmt.Errorf("AddressesOrphaned = %+v", c)
		}
		if p.Status.ObservedGeneration != p.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", p.Status.ObservedGeneration, p.Generation)
		}
		return nil
	})
	if got := waitIPs(t, ns, "keeper", 1)[0]; got != ip {
		t.Errorf("IP moved from %s to %s after a pool edit", ip, got)
	}
	// New Services get addresses from the new range.
	createService(t, ns, "fresh")
	if got := waitIPs(t, ns, "fresh", 1)[0]; got != "198.51.100.136" {
		t.Errorf("new service got %s, want 198.51.100.136", got)
	}
}

// TestStaleFinalizerWriteIsRetriedNotFailed: the informer cache can lag the
// apiserver, so the finalizer is sometimes written from an older version of
// the pool and loses its optimistic lock. That is retried soon, counted as a
// conflict, and never reported as a failed reconcile.
func TestStaleFinalizerWriteIsRetriedNotFailed(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	cleanup(t, ns, "stale")
	stale := createPool(t, "stale", ns, []string{"198.51.100.232/29"})
	fresh := getPool(t, "stale")
	fresh.Labels = map[string]string{"touched": "yes"}
	if err := env.Client.Update(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	st, term := leadingState(t)
	r := &PoolReconciler{client: env.Client, metrics: st.metrics, st: st}
	err := st.lead(context.Background(), "ipaddresspool", func(uint64) error { return r.setFinalizer(context.Background(), term, stale, true) })
	res, rerr := result(err)
	if rerr != nil || res.RequeueAfter == 0 {
		t.Errorf("a stale finalizer write gave %+v, %v; want a quiet retry", res, rerr)
	}
	for outcome, want := range map[string]float64{"conflict": 1, "error": 0} {
		if n := testutil.ToFloat64(st.metrics.Reconciles.WithLabelValues("ipaddresspool", outcome)); n != want {
			t.Errorf("%v %s reconciles counted, want %v", n, outcome, want)
		}
	}
	if slices.Contains(getPool(t, "stale").Finalizers, FinalizerPoolProtection) {
		t.Error("the stale write went through")
	}
}
