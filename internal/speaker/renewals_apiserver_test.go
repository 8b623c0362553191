package speaker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

const renewingPeers = 50

// renewAll renews the peers' Leases at at, and waits until the speaker's
// cache shows it: the proof that their events were delivered.
func renewAll(t *testing.T, h *harness, peers int, at time.Time) {
	t.Helper()
	at = at.Truncate(time.Microsecond)
	patch := fmt.Appendf(nil, `{"spec":{"renewTime":%q}}`, at.UTC().Format(metav1.RFC3339Micro))
	var wg sync.WaitGroup
	errs := make(chan error, peers)
	for i := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName(fmt.Sprintf("peer%02d", i))}}
			errs <- env.Client.Patch(context.Background(), l, client.RawPatch(types.MergePatchType, patch))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "renewals in the cache", func() (bool, string) {
		var list coordinationv1.LeaseList
		if err := h.cache.List(context.Background(), &list, client.InNamespace(kube.Namespace)); err != nil {
			return false, err.Error()
		}
		n := 0
		for _, l := range list.Items {
			if strings.HasPrefix(l.Name, "herald-speaker-peer") && l.Spec.RenewTime.Time.Equal(at) {
				n++
			}
		}
		return n == peers, fmt.Sprintf("%d of %d renewed", n, peers)
	})
}

// Renewals of the speakers' Leases change nothing the plan reads and make
// no plan; a Lease expiring makes exactly one (issue 16.8).
func TestRenewalsDoNotReplan(t *testing.T) {
	setUp(t)
	t0 := time.Now()
	fc := testingclock.NewFakeClock(t0)
	for i := range renewingPeers {
		node := fmt.Sprintf("peer%02d", i)
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName(node), Labels: map[string]string{LabelComponent: componentValue},
				Annotations: map[string]string{AnnotationMemberlistAddr: fmt.Sprintf("198.51.100.%d:7946", 100+i)}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](30), RenewTime: ptr.To(metav1.NewMicroTime(t0))},
		}
		if err := env.Client.Create(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMetrics()
	syncs := func() int { return int(testutil.ToFloat64(m.Syncs.WithLabelValues("ok"))) }
	mem := newFakeMembership()
	mem.set(members(t, 1)...)
	h := start(t, "node1", mem, func(o *Options) { o.Clock, o.Metrics, o.Resync = fc, m, time.Hour })
	known := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("a plan counting %d known speakers", n), func() (bool, string) {
			if fc.HasWaiters() {
				fc.Step(10 * time.Millisecond)
			}
			st, err := heraldNode("node1")
			return err == nil && strings.HasPrefix(st.Quorum.Reason, fmt.Sprintf("1 of %d known", n)), fmt.Sprintf("%+v %v", st.Quorum, err)
		})
	}
	// quiet lets timers fire, and the plans they ask for run, twice over:
	// a timer firing asks for a plan a Coalesce later.
	quiet := func() int {
		for range 3 {
			fc.Step(2 * time.Second)
			time.Sleep(200 * time.Millisecond)
		}
		return syncs()
	}
	known(renewingPeers + 1)
	before := quiet()
	for range 60 {
		fc.Step(time.Second)
		renewAll(t, h, renewingPeers, fc.Now())
	}
	if got := quiet() - before; got != 0 {
		t.Errorf("%d Leases renewed every second for a minute made %d plans, want 0", renewingPeers, got)
	}
	// All but peer00 are renewed far ahead; peer00 expires.
	renewAll(t, h, renewingPeers, fc.Now().Add(time.Hour))
	patch := fmt.Appendf(nil, `{"spec":{"renewTime":%q}}`, fc.Now().UTC().Format(metav1.RFC3339Micro))
	if err := env.Client.Patch(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName("peer00")}},
		client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	before = syncs()
	fc.Step(31 * time.Second)
	known(renewingPeers)
	if got := quiet() - before; got != 1 {
		t.Errorf("one Lease expiring made %d plans, want 1", got)
	}
}
