// Package burst measures the controller against a real apiserver: 2,000
// LoadBalancer Services created by 16 clients, compared with a floor client
// that does the minimum work by itself, then a restart and a mass delete.
package burst

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/ctlproc"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// Options size the run.
type Options struct {
	Services int
	Clients  int
	// Rounds repeats the whole run, each round on fresh apiservers; times
	// are then judged by their median. 0 means 1.
	Rounds int
	// ControllerBin is the controller binary built from this tree.
	ControllerBin string
	// ControllerArgs are extra controller flags, to compare settings.
	ControllerArgs []string
	// PprofAddr, if set, is where the controller serves pprof.
	PprofAddr string
	// APIServerProfileDir, if set, receives CPU profiles of the apiserver
	// over the first seconds of the floor, the burst and both deletes
	// (floor.pprof, burst.pprof, delete-alone.pprof, delete-with.pprof), to
	// see what the controller costs it. With PprofAddr set, the controller
	// is profiled too (controller-burst.pprof, controller-delete-with.pprof).
	APIServerProfileDir string
	// Log receives progress lines.
	Log io.Writer
}

// Phase is one timed burst.
type Phase struct {
	Total    time.Duration
	P50, P99 time.Duration
}

// Report is what a run measured.
type Report struct {
	Services, Clients int
	Floor, Burst      Phase
	// FloorCreates and BurstCreates are the time the create calls alone
	// took, from the first.
	FloorCreates, BurstCreates time.Duration
	PeakRSSBytes               int64
	// FloorAPIServerCPU and BurstAPIServerCPU are the apiserver's CPU time
	// from the first create until every IP was seen.
	FloorAPIServerCPU, BurstAPIServerCPU time.Duration
	// EventsDone is when the last allocation Event was written, from the
	// first create.
	EventsDone time.Duration
	// BurstCPU is the controller's CPU time from its start to the end of
	// the burst, warm-up included.
	BurstCPU    time.Duration
	BurstWrites Writes
	// RestartWrites are the writes of a new controller on a settled cluster.
	RestartWrites Writes
	DeleteAlone   time.Duration
	DeleteWithCtl time.Duration
	DeleteWrites  Writes
	// DeleteAloneAPIServerCPU and DeleteAPIServerCPU are the apiserver's
	// CPU time during each delete; DeleteCPU is the controller's.
	DeleteAloneAPIServerCPU, DeleteAPIServerCPU, DeleteCPU time.Duration
	// Rounds holds each round's own report when there were several; the
	// figures above then combine them (see combine).
	Rounds []*Report
}

const (
	controllerUser = "herald-controller"
	floorUser      = "bench-floor"
	poolCIDR       = "198.19.0.0/16" // the benchmarking range: no packet is ever sent
	floorFirstIP   = 0xC6138000      // 198.19.128.0: the floor's own addresses
	leaseName      = "herald-controller.heraldlb.io"
)

// step is one timed part of a run.
type step struct {
	name string
	fn   func(context.Context) error
}

// Run performs the whole measurement. The floor and the controller each get
// a fresh apiserver and etcd, set up alike: what an apiserver costs per
// request changes with what it has already seen (its cluster-IP allocator
// lists every IPAddress on each create and delete, and its watch cache and
// heap grow), so whichever side ran second on a shared apiserver would pay
// for the first.
func Run(ctx context.Context, opts Options) (*Report, error) {
	var rounds []*Report
	for i := range max(opts.Rounds, 1) {
		if opts.Rounds > 1 && opts.Log != nil {
			fmt.Fprintf(opts.Log, "=== round %d of %d\n", i+1, opts.Rounds)
		}
		rep, err := runRound(ctx, opts)
		if err != nil {
			return rep, err
		}
		rounds = append(rounds, rep)
	}
	return combine(rounds), nil
}

// runRound measures both sides once.
func runRound(ctx context.Context, opts Options) (*Report, error) {
	rep := &Report{Services: opts.Services, Clients: opts.Clients}
	sides := []func(b *bench) []step{
		func(b *bench) []step {
			return []step{{"floor", b.floor}, {"delete without controller", b.deleteAlone}}
		},
		func(b *bench) []step {
			return []step{{"burst", b.burst}, {"restart", b.restart}, {"delete with controller", b.deleteWithController}}
		},
	}
	for _, steps := range sides {
		if err := runSide(ctx, opts, rep, steps); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// runSide starts an apiserver, sets it up and runs steps against it.
func runSide(ctx context.Context, opts Options, rep *Report, steps func(b *bench) []step) error {
	dir, err := os.MkdirTemp("", "herald-burst-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	policy := filepath.Join(dir, "audit-policy.yaml")
	auditLog := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return err
	}
	env, err := testenv.Start(testenv.Options{
		// The Services of a burst need 2,000 cluster IPs at once: more
		// than the documentation ranges hold. Like the pool, they
		// come from the benchmarking range; nothing is ever sent to them.
		ClusterIPRanges: "198.18.0.0/16,2001:db8:ffff::/108",
		APIServerFlags: map[string]string{
			"audit-policy-file": policy,
			"audit-log-path":    auditLog,
			"audit-log-maxsize": "0",
		}})
	if err != nil {
		return err
	}
	defer env.Stop()
	ctx, cancel := context.WithCancel(ctx) // stops the informers first
	defer cancel()

	if keep := opts.APIServerProfileDir; keep != "" {
		// The controller's log says why it waited (client-side throttling
		// among others); keep it beside the profiles.
		defer func() { _ = copyFile(filepath.Join(dir, "controller.log"), filepath.Join(keep, "controller.log")) }()
	}
	b := &bench{opts: opts, dir: dir, env: env, auditLog: auditLog, rep: rep}
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer b.stopController()
	for _, s := range steps(b) {
		b.logf("== %s", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

type bench struct {
	opts     Options
	dir      string
	env      *testenv.Env
	auditLog string
	rep      *Report

	admin, floorClient kubernetes.Interface
	ctlKubeconfig      string
	ctl                *ctlproc.Proc
	watch              *ipWatch
	apiserverPID       int
}

func (b *bench) logf(format string, args ...any) {
	if b.opts.Log != nil {
		fmt.Fprintf(b.opts.Log, format+"\n", args...)
	}
}

func fast(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 5000, 10000
	return c
}

func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.admin, err = kubernetes.NewForConfig(fast(b.env.Config)); err != nil {
		return err
	}
	_, floorCfg, err := b.env.AddAdmin(floorUser)
	if err != nil {
		return err
	}
	if b.floorClient, err = kubernetes.NewForConfig(fast(floorCfg)); err != nil {
		return err
	}
	if b.ctlKubeconfig, _, err = b.env.AddAdmin(controllerUser); err != nil {
		return err
	}
	for _, ns := range []string{kube.Namespace, "bench-floor", "bench-burst", "bench-warmup"} {
		if _, err := b.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{poolCIDR}},
	}
	if err := b.env.Client.Create(ctx, pool); err != nil {
		return fmt.Errorf("create pool: %w", err)
	}
	b.apiserverPID = findProcess("kube-apiserver", b.env.TempDirs()[0])
	b.watch, err = startIPWatch(ctx, b.admin)
	return err
}

// findProcess returns the PID of the process whose command line names exe
// and holds marker, or 0.
func findProcess(exe, marker string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), exe) && strings.Contains(string(cmdline), marker) {
			return pid
		}
	}
	return 0
}

func service(ns string, i int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("svc-%04d", i)},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			Selector:                      map[string]string{"app": fmt.Sprintf("app-%d", i)},
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
}

// parallel runs fn(i) for i in [0, n) on the configured number of clients and
// returns the first error.
func (b *bench) parallel(n int, fn func(i int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range b.opts.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// floor is the minimal client: create, then at once patch the status with an
// IP, with the same concurrency.
func (b *bench) floor(ctx context.Context) error {
	c, err := b.createAll(ctx, "floor", "bench-floor", b.floorClient, func(svc *corev1.Service, i int) error {
		patch := fmt.Sprintf(`{"status":{"loadBalancer":{"ingress":[{"ip":%q,"ipMode":"VIP"}]}}}`, ipv4(floorFirstIP+uint32(i)))
		_, err := b.floorClient.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
		return err
	})
	if err != nil {
		return err
	}
	b.rep.Floor, b.rep.FloorCreates, b.rep.FloorAPIServerCPU = c.phase, c.creates, c.apiserverCPU
	b.logf("floor: %v total, creates alone %v, p50 %v, p99 %v", c.phase.Total.Round(time.Millisecond), c.creates.Round(time.Millisecond), c.phase.P50, c.phase.P99)
	return nil
}

// created is what createAll measured.
type created struct {
	from         time.Time // the first create
	phase        Phase
	creates      time.Duration // until the last create call returned
	apiserverCPU time.Duration // until the last IP was seen
}

// createAll has the clients create each Service of ns through cs, and run
// then, if set, on it once created; it waits until every one shows an IP.
// The apiserver is profiled as name.
func (b *bench) createAll(ctx context.Context, name, ns string, cs kubernetes.Interface, then func(svc *corev1.Service, i int) error) (created, error) {
	n := b.opts.Services
	sent := make([]time.Time, n)
	createDone := make([]time.Time, n)
	cpu0 := cpuTime(b.apiserverPID)
	profiled := b.profile(ctx, name)
	defer profiled()
	c := created{from: time.Now()}
	err := b.parallel(n, func(i int) error {
		svc := service(ns, i)
		sent[i] = time.Now()
		_, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
		createDone[i] = time.Now()
		if err != nil || then == nil {
			return err
		}
		return then(svc, i)
	})
	if err != nil {
		return c, err
	}
	if c.phase, err = b.watch.phase(ctx, ns, sent); err != nil {
		return c, err
	}
	c.apiserverCPU = cpuTime(b.apiserverPID) - cpu0
	c.creates = latest(createDone).Sub(c.from)
	return c, nil
}

// deleteAll deletes the Services of ns and waits until the watch has seen
// them go. It returns how long that took and the apiserver's CPU meanwhile.
// The apiserver is profiled as name.
func (b *bench) deleteAll(ctx context.Context, name, ns string) (took, apiserverCPU time.Duration, err error) {
	profiled := b.profile(ctx, name)
	defer profiled()
	cpu0 := cpuTime(b.apiserverPID)
	start := time.Now()
	err = b.parallel(b.opts.Services, func(i int) error {
		return b.admin.CoreV1().Services(ns).Delete(ctx, fmt.Sprintf("svc-%04d", i), metav1.DeleteOptions{})
	})
	if err != nil {
		return 0, 0, err
	}
	if err := b.watch.waitEmpty(ctx, ns); err != nil {
		return 0, 0, err
	}
	return time.Since(start), cpuTime(b.apiserverPID) - cpu0, nil
}

// settle is the pause before each delete: the delete with the controller
// follows the restart's wait, so the one without waits as long.
const settle = 10 * time.Second

// deleteAlone measures the floor's Services being deleted with no
// controller.
func (b *bench) deleteAlone(ctx context.Context) error {
	time.Sleep(settle)
	d, cpu, err := b.deleteAll(ctx, "delete-alone", "bench-floor")
	b.rep.DeleteAlone, b.rep.DeleteAloneAPIServerCPU = d, cpu
	b.logf("delete %d Services, no controller: %v", b.opts.Services, d.Round(time.Millisecond))
	return err
}

func (b *bench) startController(ctx context.Context) error {
	args := append([]string{
		"--kubeconfig=" + b.ctlKubeconfig,
		"--leader-elect=true", "--leader-election-namespace=herald-system",
		"--metrics-bind-address=0", "--health-probe-bind-address=0", "--pprof-bind-address=" + b.opts.PprofAddr,
	}, b.opts.ControllerArgs...)
	p, err := ctlproc.Start(b.opts.ControllerBin, filepath.Join(b.dir, "controller.log"), args...)
	if err != nil {
		return err
	}
	b.ctl = p
	return nil
}

func (b *bench) stopController() {
	if b.ctl == nil {
		return
	}
	b.ctl.Stop()
	b.ctl = nil
}

// warmUp waits until the controller leads and allocates: one Service in a
// namespace of its own gets an IP.
func (b *bench) warmUp(ctx context.Context) error {
	svc := service("bench-warmup", 0)
	svc.Name = fmt.Sprintf("warmup-%d", time.Now().UnixNano())
	if _, err := b.admin.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	return b.watch.waitIP(ctx, svc.Namespace, svc.Name, 60*time.Second)
}

func (b *bench) burst(ctx context.Context) error {
	if err := b.startController(ctx); err != nil {
		return err
	}
	if err := b.warmUp(ctx); err != nil {
		return fmt.Errorf("controller never allocated the warm-up Service: %w (log: %s)", err, filepath.Join(b.dir, "controller.log"))
	}
	n := b.opts.Services
	c, err := b.createAll(ctx, "burst", "bench-burst", b.admin, nil)
	if err != nil {
		return err
	}
	b.rep.Burst, b.rep.BurstCreates, b.rep.BurstAPIServerCPU = c.phase, c.creates, c.apiserverCPU
	from := c.from
	// Let the coalesced pool-status write and the last events land.
	if err := b.waitPoolInUse(ctx, n+1); err != nil {
		return err
	}
	// Allocation Events trail the IPs by design; every Service must get its
	// Event, and the write count includes them.
	if err := b.waitEvents(ctx, "bench-burst", n); err != nil {
		return err
	}
	b.rep.EventsDone = time.Since(from)
	time.Sleep(2 * time.Second)
	b.rep.PeakRSSBytes = peakRSS(b.ctl.Pid())
	b.rep.BurstCPU = cpuTime(b.ctl.Pid())
	b.rep.BurstWrites, err = countWrites(b.auditLog, controllerUser, from, time.Now())
	b.logf("burst: %v total, p50 %v, p99 %v; writes: %v", c.phase.Total.Round(time.Millisecond), c.phase.P50, c.phase.P99, b.rep.BurstWrites)
	if err != nil {
		return err
	}
	// ServiceAnnouncements follow the allocations, and with no speaker
	// here each turns NoAnnouncer after its grace: the cluster has settled
	// only then, and the restart that follows must find nothing to write.
	// Those later writes are not the burst's.
	return b.waitAnnouncements(ctx, "bench-burst", n)
}

// waitEvents waits until every Service in ns has its IPAllocated Event.
func (b *bench) waitEvents(ctx context.Context, ns string, want int) error {
	got := map[string]bool{}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := b.admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=IPAllocated"})
		if err != nil {
			return false, err
		}
		clear(got)
		for _, e := range list.Items {
			got[e.InvolvedObject.Name] = true
		}
		return len(got) >= want, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d Services have their IPAllocated Event: %w", len(got), want, err)
	}
	return nil
}

// waitAnnouncements waits until want Services in ns have a
// ServiceAnnouncement that is past its grace (Announced is not
// WaitingForAnnouncer).
func (b *bench) waitAnnouncements(ctx context.Context, ns string, want int) error {
	settled := 0
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var list v1beta1.ServiceAnnouncementList
		if err := b.env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		settled = 0
		for _, sa := range list.Items {
			c := meta.FindStatusCondition(sa.Status.Conditions, v1beta1.ServiceAnnounced)
			if c != nil && c.Reason != v1beta1.ReasonWaitingForAnnouncer {
				settled++
			}
		}
		return settled >= want, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d Services have a settled ServiceAnnouncement: %w", settled, want, err)
	}
	return nil
}

func (b *bench) waitPoolInUse(ctx context.Context, want int) error {
	var pool v1beta1.IPAddressPool
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := b.env.Client.Get(ctx, types.NamespacedName{Name: "bench"}, &pool)
		return err == nil && pool.Status.InUse == fmt.Sprint(want), err
	})
	if err != nil {
		return fmt.Errorf("pool status shows %q in use, want %d: %w", pool.Status.InUse, want, err)
	}
	return nil
}

// restart replaces the controller on a settled cluster and counts what the
// new one writes once it leads: it must write nothing. Leader-election
// bookkeeping (the Lease, and the Event recorded on it, both in
// herald-system) is counted apart.
func (b *bench) restart(ctx context.Context) error {
	prev, err := b.leaseHolder(ctx)
	if err != nil {
		return err
	}
	b.stopController()
	from := time.Now()
	if err := b.startController(ctx); err != nil {
		return err
	}
	if err := b.waitNewLeader(ctx, prev); err != nil {
		return err
	}
	// Time to load every assignment, reconcile every Service and pool; it is
	// also the pause before the delete that follows.
	time.Sleep(settle)
	w, err := countWrites(b.auditLog, controllerUser, from, time.Now())
	b.rep.RestartWrites = w
	b.logf("restart: %v", w)
	return err
}

func (b *bench) waitNewLeader(ctx context.Context, prev string) error {
	var holder string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		holder, err = b.leaseHolder(ctx)
		return holder != "" && holder != prev, err
	})
	if err != nil {
		return fmt.Errorf("the new controller never took the lease (holder %q): %w", holder, err)
	}
	return nil
}

func (b *bench) leaseHolder(ctx context.Context) (string, error) {
	l, err := b.admin.CoordinationV1().Leases(kube.Namespace).Get(ctx, leaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil || l.Spec.HolderIdentity == nil {
		return "", err
	}
	return *l.Spec.HolderIdentity, nil
}

func (b *bench) deleteWithController(ctx context.Context) error {
	from := time.Now()
	ctlCPU0 := cpuTime(b.ctl.Pid())
	d, cpu, err := b.deleteAll(ctx, "delete-with", "bench-burst")
	if err != nil {
		return err
	}
	b.rep.DeleteWithCtl, b.rep.DeleteAPIServerCPU = d, cpu
	b.rep.DeleteCPU = cpuTime(b.ctl.Pid()) - ctlCPU0
	if err := b.waitPoolInUse(ctx, 1); err != nil { // the warm-up Service remains
		return err
	}
	b.rep.DeleteWrites, err = countWrites(b.auditLog, controllerUser, from, time.Now())
	b.logf("delete %d Services with the controller: %v; writes: %v", b.opts.Services, d.Round(time.Millisecond), b.rep.DeleteWrites)
	return err
}

// profileSeconds is how much of a step the apiserver profile covers: less
// than the shortest step, so that every profile sees the apiserver busy
// throughout.
const profileSeconds = 4

// profile starts CPU profiles of the apiserver, and of the controller when
// it runs and serves pprof, if asked for; it returns a function that waits
// for them to be written as <name>.pprof and controller-<name>.pprof.
func (b *bench) profile(ctx context.Context, name string) (wait func()) {
	dir := b.opts.APIServerProfileDir
	if dir == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	save := func(file string, fetch func() ([]byte, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := fetch()
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, file), data, 0o644)
			}
			if err != nil {
				b.logf("profile %s: %v", file, err)
			}
		}()
	}
	secs := fmt.Sprint(profileSeconds)
	save(name+".pprof", func() ([]byte, error) {
		return b.admin.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
			Param("seconds", secs).Timeout(2 * profileSeconds * time.Second).DoRaw(ctx)
	})
	if b.ctl != nil && b.opts.PprofAddr != "" && b.opts.PprofAddr != "0" {
		// The block profile is empty unless the controller runs with
		// --pprof-block-profile-rate; with seconds, both are deltas.
		for file, path := range map[string]string{"controller-" + name + ".pprof": "profile", "controller-" + name + "-block.pprof": "block"} {
			save(file, func() ([]byte, error) { return getPprof(b.opts.PprofAddr, path, secs) })
		}
	}
	return wg.Wait
}

func getPprof(addr, profile, secs string) ([]byte, error) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + profile + "?seconds=" + secs)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// copyFile appends from to to, when from exists.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

func ipv4(v uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

func latest(ts []time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func peakRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb)
			return kb * 1024
		}
	}
	return 0
}

// cpuTime is a process's user and system CPU time so far.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 12th and 13th, in clock ticks.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(fields[11], &ut)
	fmt.Sscan(fields[12], &st)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}

// ipWatch records, through one informer, when each Service first shows an
// ingress IP and when it is gone.
type ipWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time // ns/name → first time an IP was seen
	live map[string]bool
}

func startIPWatch(ctx context.Context, cs kubernetes.Interface) (*ipWatch, error) {
	w := &ipWatch{seen: map[string]time.Time{}, live: map[string]bool{}}
	f := informers.NewSharedInformerFactory(cs, 0)
	inf := f.Core().V1().Services().Informer()
	observe := func(obj any) {
		svc, ok := obj.(*corev1.Service)
		if !ok {
			return
		}
		key := svc.Namespace + "/" + svc.Name
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.live[key] = true
		if len(svc.Status.LoadBalancer.Ingress) > 0 {
			if _, ok := w.seen[key]; !ok {
				w.seen[key] = now
			}
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, obj any) { observe(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if svc, ok := obj.(*corev1.Service); ok {
				w.mu.Lock()
				key := svc.Namespace + "/" + svc.Name
				delete(w.live, key)
				delete(w.seen, key)
				w.mu.Unlock()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("service informer never synced")
	}
	return w, nil
}

func (w *ipWatch) waitIP(ctx context.Context, ns, name string, timeout time.Duration) error {
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		_, ok := w.seen[ns+"/"+name]
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("%s/%s has no IP after %v: %w", ns, name, timeout, err)
	}
	return nil
}

// phase waits until every svc-NNNN in ns has an IP and computes the phase's
// figures from the create times.
func (w *ipWatch) phase(ctx context.Context, ns string, sent []time.Time) (Phase, error) {
	for i := range sent {
		if err := w.waitIP(ctx, ns, fmt.Sprintf("svc-%04d", i), 5*time.Minute); err != nil {
			return Phase{}, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	lat := make([]time.Duration, len(sent))
	first, last := sent[0], time.Time{}
	for i, s := range sent {
		seen := w.seen[fmt.Sprintf("%s/svc-%04d", ns, i)]
		lat[i] = seen.Sub(s)
		if s.Before(first) {
			first = s
		}
		if seen.After(last) {
			last = seen
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(time.Millisecond) }
	return Phase{Total: last.Sub(first), P50: pct(0.50), P99: pct(0.99)}, nil
}

func (w *ipWatch) waitEmpty(ctx context.Context, ns string) error {
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for k := range w.live {
			if strings.HasPrefix(k, ns+"/") {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("services in %s not all gone: %w", ns, err)
	}
	return nil
}
