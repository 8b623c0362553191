package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

var errBoom = errors.New("boom")

// fakeReader serves objs, and fails every call whose kind is in failing.
func fakeReader(t *testing.T, failing map[string]bool, objs ...client.Object) client.WithWatch {
	t.Helper()
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	kindOf := func(o any) string {
		switch o.(type) {
		case *corev1.Service, *corev1.ServiceList:
			return "Service"
		case *v1beta1.IPAddressPool, *v1beta1.IPAddressPoolList:
			return "IPAddressPool"
		case *corev1.Namespace, *corev1.NamespaceList:
			return "Namespace"
		}
		return ""
	}
	return interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build(), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if failing[kindOf(obj)] {
				return errBoom
			}
			return c.Get(ctx, key, obj, opts...)
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if failing[kindOf(list)] {
				return errBoom
			}
			return c.List(ctx, list, opts...)
		},
	})
}

func leadingState(t *testing.T) (*state, uint64) {
	t.Helper()
	st := newState(metrics.NewController())
	return st, st.beginTerm()
}

func testPool(name string, addrs ...string) *v1beta1.IPAddressPool {
	p := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Now()}}
	for _, a := range addrs {
		p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(a))
	}
	return p
}

func lbService(ns, name string, status ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	s.Status.LoadBalancer.Ingress = ingressFor(ips(status...))
	return s
}

var ourClass = kube.ClassPolicy{Class: kube.DefaultClass, Default: true}

func TestSetPoolsFailureKeepsLastGoodSetAndSaysSo(t *testing.T) {
	st, term := leadingState(t)
	good := config.Pools([]v1beta1.IPAddressPool{*testPool("p", "198.51.100.0/30")})
	if _, err := st.setPoolsLocked("v1", good); err != nil {
		t.Fatal(err)
	}
	// config never makes two pools of one name; if it ever did, the error
	// must surface rather than vanish.
	bad := config.Config{Pools: append(good.Pools, good.Pools[0]), Problems: map[string]config.Problem{}}
	_, err := st.setPoolsLocked("v2", bad)
	if !errors.Is(err, ipam.ErrInvalidPool) {
		t.Fatalf("setPoolsLocked(two pools named p) = %v, want an error wrapping ErrInvalidPool", err)
	}
	if st.poolsFP != "v1" {
		t.Errorf("fingerprint moved to %q: the failed set would never be retried", st.poolsFP)
	}
	if _, err := st.allocate(term, ipam.Request{Key: "d/a"}, nil); err != nil {
		t.Errorf("the last good set is not in force: %v", err)
	}
}

func TestAllocateAdoptsOrReplacesStatusIPs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		status    []string
		wantIPs   string
		wantWhy   string // substring of the replacement's reason; "" when kept
		wantError error
	}{
		{name: "free IP of a pool: kept", status: []string{"198.51.100.2"}, wantIPs: "198.51.100.2"},
		{name: "outside every pool: replaced", status: []string{"203.0.113.9"}, wantIPs: "198.51.100.1", wantWhy: "not addresses of any one pool"},
		{name: "held by another Service: replaced", status: []string{"198.51.100.0"}, wantIPs: "198.51.100.1", wantWhy: "in use by d/owner"},
		{name: "two IPv4 addresses: refused, nothing held", status: []string{"198.51.100.2", "198.51.100.3"}, wantError: ipam.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, term := leadingState(t)
			c := fakeReader(t, nil, testPool("p", "198.51.100.0/30"), lbService("d", "owner", "198.51.100.0"))
			if err := st.ensureLoaded(ctx, term, c, ourClass.Handles); err != nil {
				t.Fatal(err)
			}
			al, err := st.allocate(term, ipam.Request{Key: "d/new", Namespace: "d"}, ips(tt.status...))
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Fatalf("allocate = %+v, %v; want %v", al, err, tt.wantError)
				}
				if _, held, _ := st.lookup(term, "d/new"); held {
					t.Errorf("a refused status is held")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := joinIPs(al.Assignment); got != tt.wantIPs {
				t.Errorf("IPs = %s, want %s", got, tt.wantIPs)
			}
			if tt.wantWhy == "" && len(al.Replaced) > 0 || !strings.Contains(al.Why, tt.wantWhy) {
				t.Errorf("replaced %v because %q, want a reason containing %q", al.Replaced, al.Why, tt.wantWhy)
			}
			if tt.wantWhy != "" && len(al.Replaced) == 0 {
				t.Errorf("replacement not reported")
			}
		})
	}
}

func TestTermsFenceWork(t *testing.T) {
	ctx := context.Background()
	st, term := leadingState(t)
	c := fakeReader(t, nil, testPool("p", "198.51.100.0/30"))
	if err := st.ensureLoaded(ctx, term, c, ourClass.Handles); err != nil {
		t.Fatal(err)
	}
	_, exit, ok := st.enter()
	if !ok {
		t.Fatal("a leading state refused work")
	}
	ended := make(chan bool)
	go func() {
		_, finished := st.endTerm(5 * time.Second)
		ended <- finished
	}()
	// The term stops taking work at once, but waits for what is in flight.
	testEventually(t, func() error {
		if st.leading(term) {
			return errors.New("still leading")
		}
		return nil
	})
	if _, err := st.allocate(term, ipam.Request{Key: "d/a"}, nil); !errors.Is(err, errNotLeading) {
		t.Errorf("allocate in an ended term = %v, want errNotLeading", err)
	}
	if _, _, ok := st.enter(); ok {
		t.Errorf("work entered an ended term")
	}
	exit()
	if !<-ended {
		t.Errorf("endTerm did not see the work in flight finish")
	}
	// A new term starts from nothing, and loads again.
	next := st.beginTerm()
	if next == term || st.isLoaded() {
		t.Errorf("new term %d (old %d) loaded=%v; want a new, unloaded term", next, term, st.isLoaded())
	}
}

// testEventually is eventually for tests that need no apiserver.
func testEventually(t *testing.T, f func() error) {
	t.Helper()
	eventually(t, 5*time.Second, f)
}

func TestBarrierListErrorIsReturned(t *testing.T) {
	for _, kind := range []string{"IPAddressPool", "Service", "Namespace"} {
		st, term := leadingState(t)
		c := fakeReader(t, map[string]bool{kind: true})
		err := st.ensureLoaded(context.Background(), term, c, ourClass.Handles)
		if !errors.Is(err, errBoom) {
			t.Errorf("barrier with failing %s list = %v, want errBoom", kind, err)
		}
		if st.isLoaded() {
			t.Errorf("barrier passed although listing %s failed", kind)
		}
	}
}

func newTestQueue() workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
}

func drain(q workqueue.TypedRateLimitingInterface[reconcile.Request]) []string {
	var out []string
	for q.Len() > 0 {
		r, _ := q.Get()
		out = append(out, r.String())
		q.Done(r)
	}
	return out
}

// TestEnqueueListErrors: a failed list is an error to retry, never "no
// Services to reconcile".
func TestEnqueueListErrors(t *testing.T) {
	ctx := context.Background()
	st, _ := leadingState(t)
	svcQ, poolQ := newTestQueue(), newTestQueue()
	defer svcQ.ShutDown()
	defer poolQ.ShutDown()
	st.setQueue(false, svcQ)
	st.setQueue(true, poolQ)

	failing := fakeReader(t, map[string]bool{"Service": true, "IPAddressPool": true})
	sr := &ServiceReconciler{reader: failing, st: st, class: ourClass, metrics: st.metrics}
	if _, err := sr.Reconcile(ctx, enqueueRequest("")); !errors.Is(err, errBoom) {
		t.Errorf("pending Services with a failing list: %v, want errBoom", err)
	}
	pr := &PoolReconciler{reader: failing, st: st, metrics: st.metrics}
	if _, err := pr.Reconcile(ctx, reconcile.Request{}); !errors.Is(err, errBoom) {
		t.Errorf("every pool with a failing list: %v, want errBoom", err)
	}

	working := fakeReader(t, nil, lbService("a", "waiting"), lbService("a", "served", "198.51.100.1"), lbService("b", "waiting"), testPool("p", "198.51.100.0/30"))
	sr.reader, pr.reader = working, working
	for _, tt := range []struct {
		name string
		want string
	}{
		{"a", "a/waiting"},
		{"", "a/waiting,b/waiting"},
		{allServices, "a/served,a/waiting,b/waiting"},
	} {
		if _, err := sr.Reconcile(ctx, enqueueRequest(tt.name)); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(drain(svcQ), ","); got != tt.want {
			t.Errorf("enqueue(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := pr.Reconcile(ctx, reconcile.Request{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(drain(poolQ), ","); got != "/p" {
		t.Errorf("every pool = %s, want /p", got)
	}
}

// TestOrphanWarningsSurviveReadErrors: a warning whose Service cannot be read
// is kept and the error returned; once the read works, it is sent. A
// Service that is gone needs no warning.
func TestOrphanWarningsSurviveReadErrors(t *testing.T) {
	ctx := context.Background()
	rec := record.NewFakeRecorder(10)
	notes := []orphanNote{{key: "a/kept", pool: "p", ips: ips("198.51.100.1")}, {key: "a/gone", pool: "p", ips: ips("198.51.100.2")}}
	left, err := warnOrphans(ctx, fakeReader(t, map[string]bool{"Service": true}), rec, notes)
	if !errors.Is(err, errBoom) || len(left) != 2 {
		t.Fatalf("warnOrphans with failing reads = %v, %v; want both kept and errBoom", left, err)
	}
	left, err = warnOrphans(ctx, fakeReader(t, nil, lbService("a", "kept", "198.51.100.1")), rec, left)
	if err != nil || len(left) != 0 {
		t.Fatalf("warnOrphans = %v, %v; want everything handled", left, err)
	}
	if len(rec.Events) != 1 {
		t.Fatalf("%d Events, want one for a/kept", len(rec.Events))
	}
	if e := <-rec.Events; !strings.Contains(e, ReasonAddressOrphaned) || !strings.Contains(e, "198.51.100.1") {
		t.Errorf("Event = %q", e)
	}
}

// TestMovesKeepShownIPsUntilSettled: when a Service's request moves it, the
// IPs its status shows stay taken until the new status is written.
func TestMovesKeepShownIPsUntilSettled(t *testing.T) {
	st, term := leadingState(t)
	c := fakeReader(t, nil, testPool("p", "198.51.100.0/31"), testPool("q", "203.0.113.0/31"))
	if err := st.ensureLoaded(context.Background(), term, c, ourClass.Handles); err != nil {
		t.Fatal(err)
	}
	first, err := st.allocate(term, ipam.Request{Key: "d/a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.settled(term, "d/a")
	// d/a asks for pool q; its status still shows its IP of p.
	if _, err := st.allocate(term, ipam.Request{Key: "d/a", Pool: "q"}, first.IPs); err != nil {
		t.Fatal(err)
	}
	other, err := st.allocate(term, ipam.Request{Key: "d/b", Pool: "p"}, nil)
	if err != nil || ipam.SameIPs(other.IPs, first.IPs) {
		t.Fatalf("d/b got %v, %v while d/a's status shows %v", other.IPs, err, first.IPs)
	}
	st.settled(term, "d/a")
	third, err := st.allocate(term, ipam.Request{Key: "d/c", Pool: "p"}, nil)
	if err != nil || !ipam.SameIPs(third.IPs, first.IPs) {
		t.Errorf("after d/a's status changed, d/c got %v, %v; want the freed %v", third.IPs, err, first.IPs)
	}
}

func TestLeadTurnsPanicsIntoCountedErrors(t *testing.T) {
	st, _ := leadingState(t)
	err := st.lead(context.Background(), "service", func(uint64) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("lead = %v, want the panic as an error", err)
	}
	if n := testutil.ToFloat64(st.metrics.Reconciles.WithLabelValues("service", "error")); n != 1 {
		t.Errorf("%v errors counted, want 1", n)
	}
}

// TestPatchCarriesUID: a status patch names the Service's UID, so that it
// fails on a Service deleted and created again under the same name rather
// than giving the new one the old one's IPs.
func TestPatchCarriesUID(t *testing.T) {
	st, term := leadingState(t)
	svc := lbService("a", "web")
	svc.UID = "uid-1"
	var sent []byte
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(svc).WithStatusSubresource(svc).Build(), interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			sent, _ = p.Data(obj)
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
	r := &ServiceReconciler{client: c, st: st, metrics: st.metrics}
	body := assignPatch(svc, ipam.Assignment{Pool: "p", IPs: ips("198.51.100.1")})
	// The fake client's status subresource keeps only the status, unlike
	// the apiserver's for Services: what matters here is what was sent.
	if _, err := r.patch(context.Background(), term, svc, body); err != nil && !errors.Is(err, ErrAnnotationNotKept) {
		t.Fatal(err)
	}
	if !strings.Contains(string(sent), `"uid":"uid-1"`) || !strings.Contains(string(sent), config.AnnotationAllocatedFromPool) {
		t.Errorf("patch = %s, want the UID and the annotation", sent)
	}
	if _, ok := body["metadata"].(map[string]any)["uid"]; ok {
		t.Errorf("patch changed the caller's body")
	}
}
