package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	// Controller-runtime's logger is global; the tests read outcomes from
	// the apiserver, Events and metrics instead.
	ctrl.SetLogger(logr.Discard())
	testenv.Main(m, testenv.Options{}, &env)
}

// writeCounter counts the API requests that write (anything but GET).
type writeCounter struct {
	mu    sync.Mutex
	n     atomic.Int64
	paths []string
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet {
			w.n.Add(1)
			w.mu.Lock()
			w.paths = append(w.paths, req.Method+" "+req.URL.Path)
			w.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (w *writeCounter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.paths, "\n")
}

// errorLog keeps what a manager logs as errors, so that a test which finds a
// failed reconcile can say which error it was.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (e *errorLog) logger() logr.Logger { return logr.New(errorSink{e, nil}) }

func (e *errorLog) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.msgs, "\n")
}

type errorSink struct {
	log *errorLog
	kv  []any
}

func (errorSink) Init(logr.RuntimeInfo)          {}
func (errorSink) Enabled(int) bool               { return false }
func (errorSink) Info(int, string, ...any)       {}
func (s errorSink) WithName(string) logr.LogSink { return s }
func (s errorSink) WithValues(kv ...any) logr.LogSink {
	return errorSink{s.log, append(slices.Clone(s.kv), kv...)}
}

func (s errorSink) Error(err error, msg string, kv ...any) {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.msgs = append(s.log.msgs, fmt.Sprintf("%s: %v %v", msg, err, append(slices.Clone(s.kv), kv...)))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// manager is a running controller manager and what tests observe of it.
type manager struct {
	stop    func() // stops it; also called at cleanup
	st      *state
	metrics *metrics.Controller
}

// transportWrapper sees every request a manager sends: writeCounter counts
// them, pauser holds them.
type transportWrapper interface {
	wrap(http.RoundTripper) http.RoundTripper
}

// startManager runs a controller manager, leading at once unless a tweak
// sets Options.Leader, until its stop function is called (also at cleanup).
func startManager(t *testing.T, tw transportWrapper, tweaks ...func(*Options)) *manager {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 500, 1000
	if tw != nil {
		cfg.WrapTransport = tw.wrap
	}
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	var errs errorLog
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                 errs.logger(),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.NewController()
	if err := m.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Class:              kube.ClassPolicy{Class: kube.DefaultClass, Default: true},
		PoolStatusDelay:    100 * time.Millisecond,
		Metrics:            m,
		SkipNameValidation: true,
	}
	for _, tw := range tweaks {
		tw(&opts)
	}
	st, err := setup(mgr, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
			// A reconcile that fails, or panics (controller-runtime
			// recovers it), is retried and may go unnoticed otherwise.
			for _, c := range []string{"service", "ipaddresspool", "serviceannouncement", "readiness"} {
				if n := testutil.ToFloat64(m.Reconciles.WithLabelValues(c, "error")); n > 0 {
					t.Errorf("%v %s reconciles failed; errors logged:\n%s", n, c, errs.String())
				}
			}
		})
	}
	t.Cleanup(stop)
	return &manager{stop: stop, st: st, metrics: m}
}

// waitCaughtUp waits until the manager has reconciled every Service and
// pool that existed when it began to lead: the positive signal a test
// needs before it asserts that the manager did nothing.
func (m *manager) waitCaughtUp(t *testing.T) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		for _, kind := range []string{kindService, kindPool} {
			if n := testutil.ToFloat64(m.metrics.CatchUpPending.WithLabelValues(kind)); n != 0 || !m.st.isLoaded() {
				return fmt.Errorf("%v %ss not reconciled yet since the manager began to lead (loaded: %v)", n, kind, m.st.isLoaded())
			}
		}
		return nil
	})
}

// waitReconciled waits until the manager has reconciled each named Service
// of ns at the resourceVersion the apiserver holds now.
func (m *manager) waitReconciled(t *testing.T, ns string, names ...string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		for _, name := range names {
			svc := getService(t, ns, name)
			if got := m.st.reconciledAt(key(svc)); got != svc.ResourceVersion {
				return fmt.Errorf("service %s/%s reconciled at resourceVersion %q, it is at %s", ns, name, got, svc.ResourceVersion)
			}
		}
		return nil
	})
}

// waitAnnouncementsLooked waits until the manager's announcement
// reconciler has finished at least n reconciles: a new term enqueues every
// Service, so with n Services each has been looked at, the proof a test
// needs before it asserts that no announcement was written.
func (m *manager) waitAnnouncementsLooked(t *testing.T, n int) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		if got := testutil.ToFloat64(m.metrics.Reconciles.WithLabelValues("serviceannouncement", "success")); got < float64(n) {
			return fmt.Errorf("%v of %d Services' announcements reconciled", got, n)
		}
		return nil
	})
}

// eventually polls f until it returns nil (see testenv.Eventually).
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, f)
}

var nsSeq atomic.Int64

// newNamespace creates a namespace unique to the test. Services in it are
// deleted at cleanup.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), nsSeq.Add(1))
	if len(name) > 63 {
		name = name[len(name)-63:]
	}
	name = strings.Trim(name, "-")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

// cleanup deletes the namespace's Services, then the pools, and waits until
// the pools are gone (the controller must remove the protection finalizer).
// Register it after startManager so that it runs first.
func cleanup(t *testing.T, ns string, pools ...string) {
	t.Cleanup(func() {
		ctx := context.Background()
		_ = env.Client.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(ns))
		for _, p := range pools {
			_ = env.Client.Delete(ctx, &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: p}})
		}
		eventually(t, 20*time.Second, func() error {
			for _, p := range pools {
				err := env.Client.Get(ctx, client.ObjectKey{Name: p}, &v1beta1.IPAddressPool{})
				if !apierrors.IsNotFound(err) {
					return fmt.Errorf("pool %s still there (%v)", p, err)
				}
			}
			return nil
		})
	})
}

// cleanupAfterStop starts a manager again, after a test stopped its own to
// check what it wrote, so that the cleanup finds a controller to remove
// the pools' finalizer.
func cleanupAfterStop(t *testing.T, ns string, pools ...string) {
	startManager(t, nil)
	cleanup(t, ns, pools...)
}

// Builders.

type poolOpt func(*v1beta1.IPAddressPool)

// createPool creates a pool pinned to namespace ns, so tests never share
// pools.
func createPool(t *testing.T, name, ns string, addrs []string, opts ...poolOpt) *v1beta1.IPAddressPool {
	t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1beta1.IPAddressPoolSpec{
			ServiceAllocation: &v1beta1.ServiceAllocation{Namespaces: []string{ns}},
		},
	}
	for _, a := range addrs {
		p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(a))
	}
	for _, o := range opts {
		o(p)
	}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

type svcOpt func(*corev1.Service)

func createService(t *testing.T, ns, name string, opts ...svcOpt) *corev1.Service {
	t.Helper()
	s := newService(ns, name, opts...)
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// newService builds a LoadBalancer Service without creating it.
func newService(ns, name string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
			Selector:                      map[string]string{"app": name},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func withAnnotation(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func withPorts(ports ...int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Ports = nil
		for _, p := range ports {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", p), Port: p, Protocol: corev1.ProtocolTCP})
		}
	}
}

func withClass(c string) svcOpt { return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c } }

func dualStack(s *corev1.Service) {
	s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
	s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
}

// Observers.

func getService(t *testing.T, ns, name string) *corev1.Service {
	t.Helper()
	var s corev1.Service
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// waitIPs waits until the Service has n IPs in its status and returns them.
func waitIPs(t *testing.T, ns, name string, n int) []string {
	t.Helper()
	var ips []string
	eventually(t, 15*time.Second, func() error {
		s := getService(t, ns, name)
		ips = nil
		for _, in := range s.Status.LoadBalancer.Ingress {
			ips = append(ips, in.IP)
		}
		if len(ips) != n {
			return fmt.Errorf("service %s/%s has IPs %v, want %d", ns, name, ips, n)
		}
		return nil
	})
	return ips
}

// waitPoolInUse waits until the pool's status counts want addresses in use.
func waitPoolInUse(t *testing.T, pool, want string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if p := getPool(t, pool); p.Status.InUse != want {
			return fmt.Errorf("pool %s in use = %q, want %s", pool, p.Status.InUse, want)
		}
		return nil
	})
}

func getPool(t *testing.T, name string) *v1beta1.IPAddressPool {
	t.Helper()
	var p v1beta1.IPAddressPool
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func condition(p *v1beta1.IPAddressPool, typ string) *metav1.Condition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// waitEvent waits for an Event on the object with the reason, whose message
// contains substr, and returns its message.
func waitEvent(t *testing.T, ns, object, reason, substr string) string {
	t.Helper()
	var msg string
	eventually(t, 15*time.Second, func() error {
		var list corev1.EventList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		var seen []string
		for _, e := range list.Items {
			if e.InvolvedObject.Name == object && e.Reason == reason {
				if strings.Contains(e.Message, substr) {
					msg = e.Message
					return nil
				}
				seen = append(seen, e.Message)
			}
		}
		return fmt.Errorf("no %s event on %s/%s containing %q; seen %q", reason, ns, object, substr, seen)
	})
	return msg
}
