package speaker

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/linkfilter"
	"github.com/heraldlb/herald/internal/liveness"
	"github.com/heraldlb/herald/internal/plan"
	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	testenv.Main(m, testenv.Options{}, &env)
}

// The tests' cluster: nodes node1..node3 on 198.51.100.0/25, each with
// eth0 and MAC 02:00:00:00:00:0<i>, and pool "lan" announced by one
// L2Advertisement.

func nodeMAC(i int) net.HardwareAddr { return net.HardwareAddr{2, 0, 0, 0, 0, byte(i)} }

func nodeLinks(i int) []layer2.Link {
	return []layer2.Link{
		{Name: "lo", Index: 1, Up: true, Loopback: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Index: 2, Up: true, Broadcast: true, MAC: nodeMAC(i), Prefixes: []netip.Prefix{
			netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}), 25)}},
	}
}

// member is node i as memberlist reports it, with the metadata its speaker
// would gossip.
func member(t *testing.T, i int, cfg func() []plan.Link) liveness.Member {
	t.Helper()
	links, macs := usable(nodeLinks(i), linkfilter.Rules{})
	if cfg != nil {
		links = cfg()
	}
	b, err := encodeMeta(links, macs, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return liveness.Member{Name: fmt.Sprintf("node%d", i), Addr: netip.MustParseAddrPort(fmt.Sprintf("198.51.100.%d:7946", 10+i)), Meta: b}
}

func members(t *testing.T, idx ...int) []liveness.Member {
	var out []liveness.Member
	for _, i := range idx {
		out = append(out, member(t, i, nil))
	}
	return out
}

type harness struct {
	t     *testing.T
	node  string
	ns    string
	ann   *fakeAnnouncer
	bgp   *fakeRouter
	mem   *fakeMembership
	links *fakeLinks
	cache cache.Cache
	sp    *Speaker
	stop  func() error
}

var seq atomic.Int64

// setUp creates the cluster's objects, removed at cleanup: Nodes, the
// pool and its L2Advertisement, and a namespace for Services.
func setUp(t *testing.T) string {
	t.Helper()
	testenv.Require(t, env)
	ctx := context.Background()
	c := env.Client
	ns := fmt.Sprintf("speaker-%d", seq.Add(1))
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.64/27"}}},
		&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}}},
	}
	for i := 1; i <= 3; i++ {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node%d", i)}})
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	t.Cleanup(func() {
		for _, o := range objs[1:] {
			_ = c.Delete(ctx, o)
		}
		// envtest runs no namespace controller: a namespace's objects
		// outlive it unless deleted.
		_ = c.DeleteAllOf(ctx, &corev1.Service{}, client.InNamespace(ns))
		_ = c.DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(ns))
		_ = c.DeleteAllOf(ctx, &coordinationv1.Lease{}, client.InNamespace(kube.Namespace))
		_ = c.DeleteAllOf(ctx, &v1beta1.HeraldNode{}, client.MatchingLabels{LabelComponent: componentValue})
		_ = c.Delete(ctx, objs[0])
	})
	return ns
}

// start runs a speaker for node with fakes for the network, against the
// real apiserver.
func start(t *testing.T, node string, mem *fakeMembership, tweak ...func(*Options)) *harness {
	t.Helper()
	return startWith(t, node, mem, nil, tweak...)
}

// startWith is start with the speaker's Secrets read through secrets (nil:
// as the admin).
func startWith(t *testing.T, node string, mem *fakeMembership, secrets corev1client.SecretsGetter, tweak ...func(*Options)) *harness {
	t.Helper()
	return startDeps(t, node, mem, func(d *Deps) {
		if secrets != nil {
			d.Secrets = secrets
		}
	}, tweak...)
}

// startDeps is start with the speaker's Deps changed by deps.
func startDeps(t *testing.T, node string, mem *fakeMembership, deps func(*Deps), tweak ...func(*Options)) *harness {
	t.Helper()
	i := int(node[len(node)-1] - '0')
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cache.New(env.Config, cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{
		&coordinationv1.Lease{}: {Namespaces: map[string]cache.Config{kube.Namespace: {}}, Label: LeaseSelector()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)
	bc := record.NewBroadcaster()
	bc.StartRecordingToSink(&eventSink{cs})
	h := &harness{t: t, node: node, ann: &fakeAnnouncer{}, bgp: &fakeRouter{}, mem: mem, links: newFakeLinks(nodeLinks(i)), cache: ca}
	opts := Options{
		Node: node, Class: kube.ClassPolicy{Class: kube.DefaultClass, Default: true},
		MemberlistAddr: netip.MustParseAddrPort(fmt.Sprintf("198.51.100.%d:7946", 10+i)),
		RecordInterval: 50 * time.Millisecond, Settle: 100 * time.Millisecond, Handoff: 50 * time.Millisecond, Log: testr.New(t),
	}
	for _, tw := range tweak {
		tw(&opts)
	}
	if opts.Clock != nil {
		h.ann.now = opts.Clock.Now
	}
	d := Deps{
		Client: env.Client, Cache: ca, Secrets: cs.CoreV1(), Recorder: bc.NewRecorder(scheme, corev1.EventSource{Component: "herald-speaker", Host: node}),
		Announcer: h.ann, Membership: mem, Links: h.links, Router: h.bgp,
	}
	if deps != nil {
		deps(&d)
	}
	sp, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.sp = sp
	ctx, cancel := context.WithCancel(context.Background())
	cacheDone := make(chan struct{})
	go func() { _ = ca.Start(ctx); close(cacheDone) }()
	done := make(chan error, 1)
	runCtx, stopRun := context.WithCancel(ctx)
	go func() { done <- sp.Run(runCtx) }()
	stopped := false
	var runErr error
	h.stop = func() error {
		if !stopped {
			stopped = true
			stopRun()
			runErr = <-done
			cancel()
			<-cacheDone
			bc.Shutdown()
		}
		return runErr
	}
	t.Cleanup(func() { _ = h.stop() })
	return h
}

type eventSink struct{ cs kubernetes.Interface }

func (s *eventSink) Create(e *corev1.Event) (*corev1.Event, error) {
	return s.cs.CoreV1().Events(e.Namespace).Create(context.Background(), e, metav1.CreateOptions{})
}
func (s *eventSink) Update(e *corev1.Event) (*corev1.Event, error) {
	return s.cs.CoreV1().Events(e.Namespace).Update(context.Background(), e, metav1.UpdateOptions{})
}
func (s *eventSink) Patch(e *corev1.Event, p []byte) (*corev1.Event, error) {
	return s.cs.CoreV1().Events(e.Namespace).Patch(context.Background(), e.Name, "application/strategic-merge-patch+json", p, metav1.PatchOptions{})
}

// service creates a LoadBalancer Service with ip in its status, as the
// controller would have written it, and a ready endpoint on each of on.
func service(t *testing.T, ns, name, ip string, opts func(*corev1.Service), on ...string) {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: ptr.To(false),
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	if opts != nil {
		opts(svc)
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if err := env.Client.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, n := range on {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{"198.51.100.20"}, NodeName: ptr.To(n), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	if err := env.Client.Create(ctx, es); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds (see testenv.Eventually).
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, func() error {
		if ok, why := cond(); !ok {
			return fmt.Errorf("waiting for %s: %s", what, why)
		}
		return nil
	})
}

func (h *harness) waitApplied(want []layer2.Announcement) {
	h.t.Helper()
	slices.SortFunc(want, func(a, b layer2.Announcement) int { return a.IP.Compare(b.IP) })
	waitFor(h.t, "announcements", func() (bool, string) {
		got := h.ann.Applied()
		return slices.Equal(got, want), fmt.Sprintf("applied %v, want %v", got, want)
	})
}

func events(t *testing.T, ns, name, reason string) []corev1.Event {
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func waitEvent(t *testing.T, ns, name, reason, contains string) {
	t.Helper()
	waitFor(t, "event "+reason+" on "+name, func() (bool, string) {
		for _, e := range events(t, ns, name, reason) {
			if strings.Contains(e.Message, contains) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d %s events, none containing %q", len(events(t, ns, name, reason)), reason, contains)
	})
}

func mineOf(node string, nodes []string, ips ...string) []layer2.Announcement {
	var out []layer2.Announcement
	for _, s := range ips {
		ip := netip.MustParseAddr(s)
		if w, _ := election.Winner(ip, nodes); w == node {
			out = append(out, layer2.Announcement{IP: ip, Interface: "eth0"})
		}
	}
	return out
}

var all3 = []string{"node1", "node2", "node3"}

// startWinning makes a Service with an endpoint on node1 for each of ips
// and starts node1's speaker with all three nodes alive; it returns once
// node1 announces the IPs it wins, some but not all of them.
func startWinning(t *testing.T, ips ...string) (h *harness, ns string, want []layer2.Announcement) {
	t.Helper()
	ns = setUp(t)
	for i, ip := range ips {
		service(t, ns, fmt.Sprintf("s%d", i), ip, nil, "node1")
	}
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h = start(t, "node1", mem)
	want = mineOf("node1", all3, ips...)
	if len(want) == 0 || len(want) == len(ips) {
		t.Fatalf("test needs node1 to win some but not all of %v: wins %v", ips, want)
	}
	h.waitApplied(want)
	return h, ns, want
}

func TestAnnouncesWhatItWins(t *testing.T) {
	ips := []string{"198.51.100.64", "198.51.100.65", "198.51.100.66", "198.51.100.67", "198.51.100.68", "198.51.100.69"}
	h, ns, want := startWinning(t, ips...)
	mem := h.mem

	// Visible: an Event naming the node on a Service it announces, its
	// record, and its Lease carrying its memberlist address.
	for i, ip := range ips {
		if slices.ContainsFunc(want, func(a layer2.Announcement) bool { return a.IP.String() == ip }) {
			waitEvent(t, ns, fmt.Sprintf("s%d", i), ReasonAnnouncing, "node node1 announces "+ip)
			break
		}
	}
	waitFor(t, "HeraldNode", func() (bool, string) {
		st, err := heraldNode("node1")
		return err == nil && len(st.Layer2) == len(want) && int(st.Layer2IPs) == len(want) && strings.HasPrefix(st.Quorum.Reason, "3 of 3") &&
				apimeta.IsStatusConditionTrue(st.Conditions, v1beta1.NodeReady) && apimeta.IsStatusConditionTrue(st.Conditions, v1beta1.NodeAnnouncing),
			fmt.Sprintf("%+v %v", st, err)
	})
	var lease coordinationv1.Lease
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: "herald-speaker-node1"}, &lease); err != nil {
		t.Fatal(err)
	}
	if lease.Annotations[AnnotationMemberlistAddr] != "198.51.100.11:7946" || *lease.Spec.HolderIdentity != "node1" {
		t.Errorf("lease = %+v", lease.ObjectMeta)
	}
	waitFor(t, "peers from the Leases", func() (bool, string) {
		d, _ := mem.state()
		return slices.Contains(d.Peers, netip.MustParseAddrPort("198.51.100.11:7946")) && len(d.Meta) > 0, fmt.Sprintf("%+v", d)
	})

	// When node2 dies, node1 takes over the IPs node2 won and node1 is the
	// runner-up for, and repeats its gratuitous announcements for the IPs it
	// keeps.
	mem.set(members(t, 1, 3)...)
	h.waitApplied(mineOf("node1", []string{"node1", "node3"}, ips...))
	waitFor(t, "gratuitous repeat", func() (bool, string) {
		announced, _ := h.ann.history()
		return len(announced) > 0, fmt.Sprintf("%v", announced)
	})
}

func TestClassAndEndpoints(t *testing.T) {
	ns := setUp(t)
	other := func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/other") }
	local := func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }
	service(t, ns, "foreign", "198.51.100.70", other, "node1")
	service(t, ns, "local-here", "198.51.100.71", local, "node1")
	service(t, ns, "local-there", "198.51.100.72", local, "node2")
	service(t, ns, "no-endpoint", "198.51.100.73", nil)
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	h.waitApplied([]layer2.Announcement{{IP: netip.MustParseAddr("198.51.100.71"), Interface: "eth0"}})
	// node1 is the reporter (first by name): it says why .73 is silent.
	waitEvent(t, ns, "no-endpoint", ReasonNotAnnounced, "no endpoint of the Service is ready")
}

func TestIPInNoPoolIsReported(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "stray", "203.0.113.9", nil, "node1")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2)...)
	h := start(t, "node1", mem)
	waitEvent(t, ns, "stray", ReasonNotAnnounced, "in no IPAddressPool")
	if got := h.ann.Applied(); len(got) != 0 {
		t.Errorf("announces %v, want nothing", got)
	}
}

// renewed creates node's speaker Lease, as its speaker would.
func renewed(t *testing.T, node string) { renewedAt(t, node, time.Now()) }

// renewedAt creates node's speaker Lease as renewed at at.
func renewedAt(t *testing.T, node string, at time.Time) {
	t.Helper()
	now := metav1.NewMicroTime(at)
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName(node), Labels: map[string]string{LabelComponent: componentValue}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](30), RenewTime: &now},
	}
	if err := env.Client.Create(context.Background(), l); err != nil {
		t.Fatal(err)
	}
}

func TestMinorityClaimsNothing(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	renewed(t, "node2")
	renewed(t, "node3")
	mem := newFakeMembership()
	mem.set(members(t, 1)...) // cut off: it sees only itself
	h := start(t, "node1", mem)
	waitFor(t, "HeraldNode saying no majority", func() (bool, string) {
		st, err := heraldNode("node1")
		c := apimeta.FindStatusCondition(st.Conditions, v1beta1.NodeReady)
		return err == nil && st.Quorum.Reason == "1 of 3 known speakers alive: does not claim (no majority)" &&
			c != nil && c.Reason == ReasonNoQuorum, fmt.Sprintf("%+v %v", st, err)
	})
	if got := h.ann.Applied(); len(got) != 0 {
		t.Errorf("a minority speaker announces %v", got)
	}
	// Back with the majority, it claims again.
	mem.set(members(t, 1, 2, 3)...)
	h.waitApplied(mineOf("node1", all3, "198.51.100.64"))
}

func TestTieBreaker(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	renewed(t, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1)...) // two known, one alive: a tie
	h := start(t, "node1", mem)
	h.waitApplied([]layer2.Announcement{{IP: netip.MustParseAddr("198.51.100.64"), Interface: "eth0"}})
	var tie coordinationv1.Lease
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: TieBreakerLease}, &tie); err != nil {
		t.Fatal(err)
	}
	if *tie.Spec.HolderIdentity != "node1" || tie.Annotations[AnnotationSide] != "node1" {
		t.Errorf("tie-breaker = %v %v", *tie.Spec.HolderIdentity, tie.Annotations)
	}
	// node2 is back: no tie; the Lease is released.
	mem.set(members(t, 1, 2)...)
	waitFor(t, "tie-breaker released", func() (bool, string) {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: TieBreakerLease}, &tie)
		return err == nil && tie.Spec.HolderIdentity == nil, fmt.Sprintf("%v", tie.Spec.HolderIdentity)
	})
}

func TestHandover(t *testing.T) {
	ns := setUp(t)
	ips := []string{"198.51.100.64", "198.51.100.65", "198.51.100.66", "198.51.100.67", "198.51.100.68", "198.51.100.69"}
	for i, ip := range ips {
		service(t, ns, fmt.Sprintf("s%d", i), ip, nil, "node1")
	}
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	mine := mineOf("node1", all3, ips...)
	h.waitApplied(mine)
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	announced, calls := h.ann.history()
	// It stopped answering first, then pointed clients at the next owner.
	if len(calls) < 2 || calls[len(calls)-2] != "set" || calls[len(calls)-1] != "announce" || len(h.ann.Applied()) != 0 {
		t.Fatalf("calls = %v, applied %v; want set(nothing) then announce", calls, h.ann.Applied())
	}
	last := announced[len(announced)-1]
	if len(last) != len(mine) {
		t.Fatalf("handover announced %v for %v", last, mine)
	}
	for _, g := range last {
		next, _ := election.Winner(g.IP, []string{"node2", "node3"})
		if want := nodeMAC(int(next[len(next)-1] - '0')); g.MAC.String() != want.String() || g.Interface != "eth0" {
			t.Errorf("%s handed to MAC %s, want %s's %s", g.IP, g.MAC, next, want)
		}
	}
	if _, left := mem.state(); !left {
		t.Errorf("did not leave memberlist")
	}
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: "herald-speaker-node1"}, &coordinationv1.Lease{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("Lease still there after shutdown: %v", err)
	}
}

// A starting speaker claims nothing until its Lease is written and it has
// settled, even when it believes itself the only speaker: the others may be
// starting too.
func TestSettleAtStartup(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	mem := newFakeMembership()
	mem.set(members(t, 1)...)
	h := start(t, "node1", mem, func(o *Options) { o.Settle = 3 * time.Second })
	started := time.Now()
	waitFor(t, "HeraldNode saying starting", func() (bool, string) {
		st, err := heraldNode("node1")
		return err == nil && strings.HasSuffix(st.Quorum.Reason, "does not claim yet (settling, or handing off)"), fmt.Sprintf("%+v %v", st.Quorum, err)
	})
	if got := h.ann.Applied(); len(got) != 0 {
		t.Fatalf("claims %v while starting", got)
	}
	h.waitApplied([]layer2.Announcement{{IP: netip.MustParseAddr("198.51.100.64"), Interface: "eth0"}})
	if d := time.Since(started); d < 2*time.Second {
		t.Errorf("claimed %v after start, before settling for 3s", d)
	}
}

// A speaker that regains quorum, as after a partition, first tells the
// others it is ready, and claims a hand-off delay later; losing quorum
// stops its claims at once and makes it say it is settling.
func TestHandoffAfterRegainingQuorum(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	renewed(t, "node2")
	renewed(t, "node3")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem, func(o *Options) { o.Handoff = 2 * time.Second })
	want := mineOf("node1", all3, "198.51.100.64")
	if len(want) == 0 {
		t.Fatal("the test needs node1 to win 198.51.100.64")
	}
	h.waitApplied(want)
	mem.set(members(t, 1)...) // cut off: claims nothing at once
	h.waitApplied(nil)
	waitFor(t, "gossip saying settling", func() (bool, string) {
		d, _ := mem.state()
		m, _, _ := decodeMeta("node1", d.Meta)
		return m.Settling, string(d.Meta)
	})
	healed := time.Now()
	mem.set(members(t, 1, 2, 3)...)
	waitFor(t, "gossip saying ready", func() (bool, string) {
		d, _ := mem.state()
		m, _, _ := decodeMeta("node1", d.Meta)
		return !m.Settling, string(d.Meta)
	})
	if got := h.ann.Applied(); len(got) != 0 {
		t.Errorf("claims %v as soon as it is ready; it must wait the hand-off delay", got)
	}
	h.waitApplied(want)
	if d := time.Since(healed); d < 1500*time.Millisecond {
		t.Errorf("claimed again %v after regaining quorum, before the 2s hand-off", d)
	}
}

// A speaker whose probes fail stops claiming before memberlist declares
// the others dead, and claims again once its probes succeed.
func TestUnhealthyClaimsNothing(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	want := mineOf("node1", all3, "198.51.100.64")
	h.waitApplied(want)
	mem.setHealth(3)
	h.waitApplied(nil)
	mem.setHealth(0)
	h.waitApplied(want)
}

// setUpBGP creates, until the test ends, BGPPeer "tor", whose password is
// "s3cret" in Secret tor-pw, pool "routed" advertised to it with community
// 64512:100, and gives node1 its InternalIP 198.51.100.11.
func setUpBGP(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "tor-pw"}, StringData: map[string]string{"password": "s3cret"}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.64/27"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"routed"}, Communities: []v1beta1.CommunityOrAlias{"64512:100"}}},
		&v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPPeerSpec{
			MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: "198.51.100.1",
			PasswordSecret: &v1beta1.SecretRef{Name: "tor-pw", Namespace: kube.Namespace}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	n1 := &corev1.Node{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "node1"}, n1); err != nil {
		t.Fatal(err)
	}
	n1.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.51.100.11"}}
	if err := env.Client.Status().Update(ctx, n1); err != nil {
		t.Fatal(err)
	}
}

// BGP: a peer whose password is in a Secret gets a session, and the
// advertised pool's IP goes to it as a /32 with the advertisement's
// community; the Service gets an Event naming the node and the peer.
func TestBGP(t *testing.T) {
	ns := setUp(t)
	ctx := context.Background()
	setUpBGP(t)
	service(t, ns, "api", "203.0.113.70", nil, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	waitFor(t, "BGP state", func() (bool, string) {
		d, ok := h.bgp.last()
		if !ok || len(d.Sessions) != 1 || len(d.Paths["tor"]) != 1 {
			return false, fmt.Sprintf("%+v", d)
		}
		s, p := d.Sessions[0], d.Paths["tor"][0]
		return s.Password == "s3cret" && s.RouterID.String() == "198.51.100.11" && s.PeerASN == 64512 &&
			p.Prefix.String() == "203.0.113.70/32" && slices.Equal(p.Communities, []uint32{64512<<16 | 100}), fmt.Sprintf("%+v", d)
	})
	waitEvent(t, ns, "api", ReasonAdvertising, "node node1 advertises 203.0.113.70 over BGP as 203.0.113.70/32 to peers tor")
	// The endpoint goes: with Cluster traffic policy the route stays while
	// any endpoint is ready, and goes with the last one.
	if err := env.Client.DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "route withdrawn", func() (bool, string) {
		d, _ := h.bgp.last()
		return len(d.Sessions) == 1 && len(d.Paths["tor"]) == 0, fmt.Sprintf("%+v", d.Paths)
	})
}

// The shell's timers run on the injected clock: on a fake clock stepped
// forward whenever the speaker waits, the claim comes exactly a Settle and
// a Handoff after start-up, and a Handoff after quorum comes back, in the
// clock's time.
func TestTimingOnAFakeClock(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	t0 := time.Now()
	fc := testingclock.NewFakeClock(t0)
	// The fake clock runs ahead of the real one: the others' Leases are
	// renewed far enough in its future to stay live throughout.
	renewedAt(t, "node2", t0.Add(time.Hour))
	renewedAt(t, "node3", t0.Add(time.Hour))
	stepWhileWaiting(t, fc)
	const settle, handoff = 2 * time.Second, 700 * time.Millisecond
	h := start(t, "node1", mem, func(o *Options) { o.Clock, o.Settle, o.Handoff = fc, settle, handoff })
	want := mineOf("node1", all3, "198.51.100.64")
	h.waitApplied(want)
	// The first Lease write happens at the first step at the latest.
	if at := h.ann.claimed().Sub(t0); at < settle+handoff || at > settle+handoff+time.Second {
		t.Errorf("claimed %v after start on the fake clock, want %v to %v", at, settle+handoff, settle+handoff+time.Second)
	}
	mem.set(members(t, 1)...)
	h.waitApplied(nil)
	back := fc.Now()
	mem.set(members(t, 1, 2, 3)...)
	h.waitApplied(want)
	if at := h.ann.claimed().Sub(back); at < handoff || at > handoff+500*time.Millisecond {
		t.Errorf("claimed again %v after quorum came back on the fake clock, want %v to %v", at, handoff, handoff+500*time.Millisecond)
	}
}

// TestUsableSkipsLinksThatMustNotAnswer: a bond's member, a bridge port, a
// NOARP link and (by default) a pod veth are never offered to the plan,
// while the bond and the bridge are.
func TestUsableSkipsLinksThatMustNotAnswer(t *testing.T) {
	rules, err := linkfilter.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	up := func(name string) layer2.Link {
		return layer2.Link{Name: name, Up: true, Broadcast: true, MAC: nodeMAC(1)}
	}
	links := []layer2.Link{up("bond0"), up("br0"), up("eth0"), up("eth1"), up("eth2"), up("veth12ab"), up("wg0")}
	links[2].MasterKind, links[3].MasterKind, links[4].MasterKind = "bond", "bond", "bridge"
	links[6].NoARP = true
	got, macs := usable(links, rules)
	var names []string
	for _, l := range got {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"bond0", "br0"}) || len(macs) != 2 {
		t.Errorf("usable = %v (%d MACs), want [bond0 br0]", names, len(macs))
	}
}
