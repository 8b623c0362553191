package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/testenv"
)

// chaosSize is how big the chaos run is: CI's bounded run, or the soak.
type chaosSize struct {
	services, kills int
	// dwell bounds the time between kills.
	dwell time.Duration
}

func chaosParams() chaosSize {
	if os.Getenv("HERALD_SOAK") == "1" {
		return chaosSize{services: 1000, kills: 100, dwell: 6 * time.Second}
	}
	return chaosSize{services: 1000, kills: 20, dwell: 3 * time.Second}
}

// The pools of the chaos run. chaos-edit's IPv4 block alternates between
// two ranges while Services hold its addresses, leaving them orphans that
// must keep their IPs.
var (
	editRanges = [2][]string{
		{"203.0.113.0/27", "2001:db8:c3::/120"},
		{"203.0.113.32/27", "2001:db8:c3::/120"},
	}
	chaosPools = map[string][]string{
		"chaos-main":   {"198.51.100.64/26", "2001:db8:c1::/112"},
		"chaos-manual": {"2001:db8:c2::/112"},
		"chaos-edit":   editRanges[0],
	}
)

// TestChaos kills the leading replica with SIGKILL and restarts it 20 times
// while 1,000 Services churn: creates, deletes, request changes and pool
// edits. Afterwards, and at every moment on the way, no IP may be shown by
// two Services unless they may share it, no Service whose request did not
// change may have changed IP, every Service must have its IPs, and every
// pool's counts must be exact.
func TestChaos(t *testing.T) {
	testenv.Require(t, env)
	p := chaosParams()
	ns := newNamespace(t, "chaos")
	a, b := startController(t, "chaos-a"), startController(t, "chaos-b")
	createPool(t, ns, "chaos-main", chaosPools["chaos-main"])
	createPool(t, ns, "chaos-manual", chaosPools["chaos-manual"], manualPool)
	createPool(t, ns, "chaos-edit", chaosPools["chaos-edit"], manualPool)
	o := observe(t, ns)
	leaderOf(t, time.Minute, a, b)

	ctx := context.Background()
	m := newChaosModel(ns, 42)
	start := time.Now()
	if err := createServices(ctx, m.initial(p.services)); err != nil {
		t.Fatal(err)
	}
	waitAllocated(t, ns, p.services, 3*time.Minute)
	t.Logf("%d Services allocated in %v; %s: %v; %s: %v", p.services, time.Since(start).Round(time.Millisecond), a.name, a.usage(), b.name, b.usage())

	stop := make(chan struct{})
	churned := make(chan churnReport, 1)
	go func() { churned <- m.churn(ctx, stop) }()

	rng := rand.New(rand.NewPCG(7, 7))
	replicas := []*controller{a, b}
	var peak usage
	for i := range p.kills {
		// Mostly the leader, sometimes the standby; sometimes before the
		// new leader has caught up.
		victim := replicas[rng.IntN(2)]
		if rng.IntN(5) > 0 {
			if l := currentLeader(ctx, replicas); l != nil {
				victim = l
			}
		}
		if u := victim.usage(); u.PeakRSS > peak.PeakRSS {
			peak.PeakRSS = u.PeakRSS
		}
		victim.kill()
		time.Sleep(time.Duration(rng.Int64N(int64(2 * time.Second))))
		victim.start(t)
		eventually(t, 30*time.Second, func() error {
			if currentLeader(ctx, replicas) == nil {
				return fmt.Errorf("no leader after kill %d", i)
			}
			return nil
		})
		time.Sleep(time.Duration(rng.Int64N(int64(p.dwell))))
	}
	close(stop)
	report := <-churned
	t.Logf("churn: %+v", report)
	if len(report.errors) > 0 {
		t.Errorf("churn errors: %v", report.errors)
	}

	// Converge: every Service has its IPs, the leader has caught up, and
	// the pool counts are exact.
	converge := time.Now()
	leader := leaderOf(t, time.Minute, a, b)
	waitAllocated(t, ns, m.count(), 2*time.Minute)
	eventually(t, time.Minute, func() error {
		if n := len(o.services()); n != m.count() {
			return fmt.Errorf("%d services seen, %d live", n, m.count())
		}
		return checkPoolCounts(ctx, ns, []string{"chaos-main", "chaos-manual", "chaos-edit"})
	})
	t.Logf("converged %v after the last kill; leader %s: %v", time.Since(converge).Round(time.Millisecond), leader.name, leader.usage())
	for _, c := range replicas {
		if u := c.usage(); u.PeakRSS > peak.PeakRSS {
			peak.PeakRSS = u.PeakRSS
		}
	}
	t.Logf("peak RSS of a replica: %.1f MiB", float64(peak.PeakRSS)/(1<<20))

	if d := o.duplicates(); len(d) > 0 {
		t.Errorf("%d duplicates, such as:\n%v", len(d), d[:min(10, len(d))])
	}
	if mv := o.moved(m.changed); len(mv) > 0 {
		t.Errorf("%d Services whose request did not change have changed IP, such as:\n%v", len(mv), mv[:min(10, len(mv))])
	}
	for _, c := range replicas {
		if x := c.unexpectedExits(); len(x) > 0 {
			t.Errorf("%s exited on its own: %v", c.name, x)
		}
	}
}

// currentLeader returns the replica that says it leads, if one does.
func currentLeader(ctx context.Context, replicas []*controller) *controller {
	for _, c := range replicas {
		if leading, _ := c.leads(ctx); leading {
			return c
		}
	}
	return nil
}

// checkPoolCounts compares each pool's status with the IPs the Services of
// ns show, as the apiserver has them: the distinct addresses, per family,
// inside the pool's ranges.
func checkPoolCounts(ctx context.Context, ns string, pools []string) error {
	list, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, name := range pools {
		var pool v1beta1.IPAddressPool
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &pool); err != nil {
			return err
		}
		var spans []struct{ lo, hi netip.Addr }
		for _, a := range pool.Spec.Addresses {
			r, err := ipam.ParseRange(string(a))
			if err != nil {
				return err
			}
			spans = append(spans, struct{ lo, hi netip.Addr }{r.From(), r.To()})
		}
		in := map[string]bool{}
		for i := range list.Items {
			for _, ip := range ipsOf(&list.Items[i]) {
				a := netip.MustParseAddr(ip)
				for _, sp := range spans {
					if !a.Less(sp.lo) && !sp.hi.Less(a) {
						in[ip] = true
					}
				}
			}
		}
		v4, v6 := 0, 0
		for ip := range in {
			if netip.MustParseAddr(ip).Is4() {
				v4++
			} else {
				v6++
			}
		}
		st := pool.Status
		if st.AssignedIPv4 != strconv.Itoa(v4) || st.AssignedIPv6 != strconv.Itoa(v6) || st.InUse != strconv.Itoa(v4+v6) || st.ObservedGeneration != pool.Generation {
			return fmt.Errorf("pool %s status says %s IPv4, %s IPv6, %s in use (generation %d of %d); the Services show %d and %d",
				name, st.AssignedIPv4, st.AssignedIPv6, st.InUse, st.ObservedGeneration, pool.Generation, v4, v6)
		}
	}
	return nil
}

// chaosModel is what the churn has done: the live Services, and the ones
// whose request it changed. Only the churn goroutine changes it.
type chaosModel struct {
	ns  string
	rng *rand.Rand

	mu        sync.Mutex
	live      map[string]string // name → kind
	changedRq map[string]bool   // keys whose request changed
	next      int
	pinned    int // the next free address for pinned Services
	edit      int // which edit range is in force
	v4        int // IPv4 and dual-stack Services alive: cluster IPs are few
	edit4     int // IPv4 Services of chaos-edit alive
	shareKey  int // sharing keys used
	lastEdit  time.Time
}

func newChaosModel(ns string, seed uint64) *chaosModel {
	return &chaosModel{ns: ns, rng: rand.New(rand.NewPCG(seed, seed)), live: map[string]string{}, changedRq: map[string]bool{}}
}

func (m *chaosModel) changed(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changedRq[key]
}

func (m *chaosModel) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.live)
}

// newServices makes the Services of one create: one, or a sharing pair.
func (m *chaosModel) newServices() []*corev1.Service {
	m.mu.Lock()
	defer m.mu.Unlock()
	name := func() string { m.next++; return fmt.Sprintf("c%05d", m.next) }
	var out []*corev1.Service
	add := func(kind string, s *corev1.Service) {
		m.live[s.Name] = kind
		out = append(out, s)
	}
	switch r := m.rng.IntN(100); {
	case r < 4 && m.v4 < 40:
		m.v4++
		add("v4", lbService(m.ns, name(), ipv4))
	case r < 6 && m.v4 < 40:
		m.v4++
		add("dual", lbService(m.ns, name(), dualStack))
	case r < 9 && m.edit4 < 10 && m.v4 < 40:
		m.v4++
		m.edit4++
		add("edit4", lbService(m.ns, name(), ipv4, withAnnotation(config.AnnotationAddressPool, "chaos-edit")))
	case r < 14:
		add("edit6", lbService(m.ns, name(), withAnnotation(config.AnnotationAddressPool, "chaos-edit")))
	case r < 20:
		add("manual", lbService(m.ns, name(), withAnnotation(config.AnnotationAddressPool, "chaos-manual")))
	case r < 25:
		m.pinned++
		add("pinned", lbService(m.ns, name(), withAnnotation(config.AnnotationLoadBalancerIPs, fmt.Sprintf("2001:db8:c1::%x", 0xf000+m.pinned))))
	case r < 29:
		m.shareKey++
		k := fmt.Sprintf("k%d", m.shareKey)
		add("shared", lbService(m.ns, name(), withAnnotation(config.AnnotationAllowSharedIP, k), withPort(80)))
		add("shared", lbService(m.ns, name(), withAnnotation(config.AnnotationAllowSharedIP, k), withPort(53)))
	default:
		add("auto", lbService(m.ns, name()))
	}
	return out
}

// initial makes about n Services.
func (m *chaosModel) initial(n int) []*corev1.Service {
	var out []*corev1.Service
	for len(out) < n {
		out = append(out, m.newServices()...)
	}
	return out
}

type churnReport struct {
	creates, deletes, changes, poolEdits int
	errors                               []string
}

// churn changes things until stop is closed. It reports, never fails: it
// runs outside the test's goroutine.
func (m *chaosModel) churn(ctx context.Context, stop <-chan struct{}) churnReport {
	var rep churnReport
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	fail := func(err error) {
		if err != nil && len(rep.errors) < 20 {
			rep.errors = append(rep.errors, err.Error())
		}
	}
	for {
		select {
		case <-stop:
			return rep
		case <-tick.C:
		}
		switch op := m.rng.IntN(100); {
		case op < 35:
			for _, s := range m.newServices() {
				_, err := cs.CoreV1().Services(m.ns).Create(ctx, s, metav1.CreateOptions{})
				fail(err)
				rep.creates++
			}
		case op < 65:
			name, kind := m.pick("")
			if name == "" || kind == "shared" {
				continue
			}
			fail(cs.CoreV1().Services(m.ns).Delete(ctx, name, metav1.DeleteOptions{}))
			m.forget(name)
			rep.deletes++
		case op < 90:
			if err := m.changeRequest(ctx); err != nil {
				fail(err)
				continue
			}
			rep.changes++
		default:
			if time.Since(m.lastEdit) < 3*time.Second {
				continue
			}
			m.lastEdit = time.Now()
			m.edit = 1 - m.edit
			body, _ := json.Marshal(map[string]any{"spec": map[string]any{"addresses": editRanges[m.edit]}})
			var p v1beta1.IPAddressPool
			p.Name = "chaos-edit"
			fail(env.Client.Patch(ctx, &p, client.RawPatch(types.MergePatchType, body)))
			rep.poolEdits++
		}
	}
}

// pick returns a random live Service of kind ("" for any).
func (m *chaosModel) pick(kind string) (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for n, k := range m.live {
		if kind == "" || k == kind {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", ""
	}
	slices.Sort(names)
	n := names[m.rng.IntN(len(names))]
	return n, m.live[n]
}

func (m *chaosModel) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.live[name] {
	case "v4", "dual":
		m.v4--
	case "edit4":
		m.v4--
		m.edit4--
	}
	delete(m.live, name)
}

// changeRequest moves an automatic Service to the manual pool, or gives a
// pinned Service another address, and records that its request changed.
func (m *chaosModel) changeRequest(ctx context.Context) error {
	var name, kind string
	var ann map[string]any
	if m.rng.IntN(2) == 0 {
		name, kind = m.pick("auto")
		ann = map[string]any{config.AnnotationAddressPool: "chaos-manual"}
	} else {
		name, kind = m.pick("pinned")
		m.mu.Lock()
		m.pinned++
		ann = map[string]any{config.AnnotationLoadBalancerIPs: fmt.Sprintf("2001:db8:c1::%x", 0xf000+m.pinned)}
		m.mu.Unlock()
	}
	if name == "" {
		return nil
	}
	m.mu.Lock()
	m.changedRq[m.ns+"/"+name] = true
	if kind == "auto" {
		m.live[name] = "manual"
	}
	m.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	_, err := cs.CoreV1().Services(m.ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{})
	return err
}
