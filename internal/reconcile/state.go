package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// errNotLeading means the work belongs to a leadership term that has ended
// (or never began): it is dropped, because the next leader starts over from
// what the apiserver holds.
var errNotLeading = errors.New("this replica does not lead")

// Kinds tracked while catching up.
const (
	kindService = "Service"
	kindPool    = "IPAddressPool"
)

// state is what the reconcilers share: the allocator and what the
// controller knows about its own writes. It lives for one leadership term
// at a time: beginTerm starts from nothing, and every method refuses work
// from another term. Every field is guarded by mu.
type state struct {
	mu      sync.Mutex
	metrics *metrics.Controller
	// term is the leadership term in force; 0 while this replica does not
	// lead. lastTerm numbers them.
	term, lastTerm uint64
	// work counts the units of work of the current term that are running,
	// so that a replica stepping down can let them finish first.
	work *sync.WaitGroup

	alloc  *ipam.Allocator
	loaded bool
	// loading is closed when the barrier that is being loaded finishes.
	loading chan struct{}
	// poolsFP identifies the pool objects cfg was built from.
	poolsFP string
	cfg     config.Config
	// orphans are the keys whose IPs were outside their pool after the last
	// pool change, so that the next change warns only about new ones.
	orphans map[string]bool
	// undelivered are orphan warnings whose Service could not be read; the
	// next catch-up sends them.
	undelivered []orphanNote
	// lastWrite is, per Service key, the resourceVersion returned by our
	// last write to it. A cached object older than that is stale: the watch
	// event of our write will trigger another reconcile.
	lastWrite map[string]uint64
	// pending holds, per kind, the objects that existed at the barrier and
	// have not been reconciled in this term yet.
	pending map[string]map[string]bool
	// swept are the Services a sweep found missing from the cache.
	swept map[string]bool
	// reconciled is, per Service key, the resourceVersion this term last
	// reconciled: what tests wait for before they assert that nothing more
	// happens.
	reconciled map[string]string

	qmu         sync.Mutex
	poolQ, svcQ workqueue.TypedRateLimitingInterface[reconcile.Request]
}

func newState(m *metrics.Controller) *state {
	s := &state{metrics: m}
	s.resetLocked()
	return s
}

// resetLocked forgets everything a term learned.
func (s *state) resetLocked() {
	s.alloc = ipam.New()
	s.loaded, s.loading = false, nil
	s.poolsFP, s.cfg = "", config.Config{}
	s.orphans = map[string]bool{}
	s.undelivered = nil
	s.lastWrite = map[string]uint64{}
	s.pending = map[string]map[string]bool{}
	s.reconciled = map[string]string{}
	s.swept = map[string]bool{}
	s.work = &sync.WaitGroup{}
	for _, k := range []string{kindService, kindPool} {
		s.metrics.CatchUpPending.WithLabelValues(k).Set(0)
	}
}

// beginTerm starts a leadership term from nothing: the first unit of work
// will load every assignment from the apiserver again.
func (s *state) beginTerm() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.lastTerm++
	s.term = s.lastTerm
	s.metrics.Leader.Set(1)
	s.metrics.LeaderTerms.Inc()
	return s.term
}

// endTerm stops the current term, if any: no new work starts, and work in
// flight gets up to grace to finish (its writes check the term first, but
// one may already be on the wire). It reports whether a term was in force,
// and whether all of its work finished.
func (s *state) endTerm(grace time.Duration) (wasLeading, finished bool) {
	s.mu.Lock()
	wg, was := s.work, s.term != 0
	s.term = 0
	s.metrics.Leader.Set(0)
	s.mu.Unlock()
	if !was {
		return false, true
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true, true
	case <-t.C:
		return true, false
	}
}

// enter starts a unit of leader work. It returns the term and a function to
// call when the work is over; ok is false when this replica does not lead.
func (s *state) enter() (term uint64, exit func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term == 0 {
		return 0, nil, false
	}
	wg := s.work
	wg.Add(1)
	return s.term, wg.Done, true
}

// lead runs f as a unit of leader work in the current term, counts its
// outcome, and returns the error to retry. Outside a term it does nothing:
// a standby drops its work, and the next term enqueues everything. Work of
// a term that ended meanwhile is dropped too: the next leader starts over.
func (s *state) lead(ctx context.Context, controller string, f func(term uint64) error) (err error) {
	term, exit, ok := s.enter()
	if !ok {
		s.metrics.Reconciles.WithLabelValues(controller, "standby").Inc()
		return nil
	}
	defer exit()
	defer func() {
		// A panic is a failed reconcile: counted, logged and retried like
		// one, not a crash.
		if p := recover(); p != nil {
			s.metrics.Reconciles.WithLabelValues(controller, "error").Inc()
			err = fmt.Errorf("reconcile panicked: %v", p)
		}
	}()
	switch err := f(term); {
	case err == nil:
		s.metrics.Reconciles.WithLabelValues(controller, "success").Inc()
		return nil
	case errors.Is(err, errNotLeading):
		s.metrics.Reconciles.WithLabelValues(controller, "standby").Inc()
		log.FromContext(ctx).V(1).Info("dropped: leadership ended during the reconcile")
		return nil
	default:
		s.metrics.Reconciles.WithLabelValues(controller, "error").Inc()
		return err
	}
}

// leading reports whether term is still in force.
func (s *state) leading(term uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return term != 0 && s.term == term
}

// orphanNote is a Service that a pool edit left with IPs outside its pool.
type orphanNote struct {
	key  string
	pool string
	ips  []netip.Addr
}

// snapshot is what the barrier loads, read straight from the apiserver.
type snapshot struct {
	pools      []v1beta1.IPAddressPool
	services   []corev1.Service
	namespaces map[string]map[string]string
}

// readSnapshot lists pools, Services and namespaces. c should read from the
// apiserver, not from the informer cache: a cache can lag behind the last
// writes of the previous leader, and missing one would give its IP away.
func readSnapshot(ctx context.Context, c client.Reader) (snapshot, error) {
	var pools v1beta1.IPAddressPoolList
	if err := c.List(ctx, &pools); err != nil {
		return snapshot{}, fmt.Errorf("list pools: %w", err)
	}
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs); err != nil {
		return snapshot{}, fmt.Errorf("list services: %w", err)
	}
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss); err != nil {
		return snapshot{}, fmt.Errorf("list namespaces: %w", err)
	}
	snap := snapshot{pools: pools.Items, services: svcs.Items, namespaces: map[string]map[string]string{}}
	for i := range nss.Items {
		snap.namespaces[nss.Items[i].Name] = nss.Items[i].Labels
	}
	return snap, nil
}

// ensureLoaded is the start-up barrier of a term: the first call reads the
// pools and every assignment recorded in the status of the Services we
// handle, oldest Service first, from c. Later calls return at once; calls
// made while it loads wait for it. No event or write is made.
func (s *state) ensureLoaded(ctx context.Context, term uint64, c client.Reader, ours func(*corev1.Service) bool) error {
	for {
		s.mu.Lock()
		switch {
		case s.term != term:
			s.mu.Unlock()
			return errNotLeading
		case s.loaded:
			s.mu.Unlock()
			return nil
		case s.loading != nil:
			ch := s.loading
			s.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return fmt.Errorf("wait for the start-up barrier: %w", ctx.Err())
			}
		}
		ch := make(chan struct{})
		s.loading = ch
		s.mu.Unlock()

		snap, err := readSnapshot(ctx, c)

		s.mu.Lock()
		if s.loading == ch {
			s.loading = nil
		}
		close(ch)
		if err == nil && s.term != term {
			err = errNotLeading
		}
		if err == nil {
			err = s.loadLocked(ctx, snap, ours)
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("load existing assignments: %w", err)
		}
		// Every Service the apiserver listed gets reconciled, also one the
		// cache has not seen yet (see listedAtBarrier).
		if q, _ := s.queues(); q != nil {
			for i := range snap.services {
				q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&snap.services[i])})
			}
		}
		return nil
	}
}

func (s *state) loadLocked(ctx context.Context, snap snapshot, ours func(*corev1.Service) bool) error {
	if _, err := s.setPoolsLocked(poolsFingerprint(snap.pools), config.Pools(snap.pools)); err != nil {
		return err
	}
	items := slices.Clone(snap.services)
	slices.SortFunc(items, func(a, b corev1.Service) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	logger := log.FromContext(ctx)
	n := 0
	svcs := map[string]bool{}
	for i := range items {
		svc := &items[i]
		svcs[key(svc)] = true
		ips := kube.IngressIPs(svc)
		if !ours(svc) || svc.DeletionTimestamp != nil || len(ips) == 0 {
			continue
		}
		req, err := config.Request(svc, snap.namespaces[svc.Namespace])
		if err != nil {
			// Keep the IP all the same: a bad annotation never takes it away.
			req = ipam.Request{Key: key(svc), Namespace: svc.Namespace, SharingKey: svc.Annotations[config.AnnotationAllowSharedIP]}
		}
		if req.Pool == "" {
			// An IP a pool edit left outside its pool stays that pool's
			// orphan, as it was before the restart.
			req.Pool = svc.Annotations[config.AnnotationAllocatedFromPool]
		}
		if _, err := s.alloc.Assign(req, ips); err != nil {
			// The Service's own reconcile decides, and says with an Event,
			// whether it moves (see adopt).
			logger.Info("not restoring an assignment at start-up; the Service's reconcile decides what it gets", "service", req.Key, "ips", ips, "error", err.Error())
			continue
		}
		n++
	}
	for _, k := range s.alloc.Orphans() {
		s.orphans[k] = true
	}
	pools := map[string]bool{}
	for i := range snap.pools {
		pools[snap.pools[i].Name] = true
	}
	s.pending = map[string]map[string]bool{kindService: svcs, kindPool: pools}
	s.notePendingLocked()
	s.loaded = true
	logger.Info("start-up barrier passed: existing assignments loaded", "pools", len(s.cfg.Pools), "services", n)
	return nil
}

// syncPools brings the allocator's pools up to date with the cached pool
// objects. It returns the Services that the change orphaned.
func (s *state) syncPools(ctx context.Context, term uint64, c client.Reader) ([]orphanNote, error) {
	var pools v1beta1.IPAddressPoolList
	if err := c.List(ctx, &pools); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return nil, errNotLeading
	}
	fp := poolsFingerprint(pools.Items)
	if fp == s.poolsFP {
		return nil, nil
	}
	return s.setPoolsLocked(fp, config.Pools(pools.Items))
}

// setPoolsLocked puts cfg, built from pool objects with fingerprint fp, in
// force. If the allocator refuses it, the last good set stays in force and
// the error says why: the reconcile fails, is logged and retried.
func (s *state) setPoolsLocked(fp string, cfg config.Config) ([]orphanNote, error) {
	if err := s.alloc.SetPools(cfg.Pools); err != nil {
		return nil, fmt.Errorf("apply pools (the last good set stays in force): %w", err)
	}
	s.cfg, s.poolsFP = cfg, fp
	var notes []orphanNote
	now := map[string]bool{}
	for _, k := range s.alloc.Orphans() {
		now[k] = true
		if !s.orphans[k] && s.loaded {
			if a, ok := s.alloc.Lookup(k); ok {
				notes = append(notes, orphanNote{key: k, pool: a.Pool, ips: a.IPs})
			}
		}
	}
	s.orphans = now
	return notes, nil
}

// takeUndelivered returns the orphan warnings left from earlier attempts.
func (s *state) takeUndelivered(term uint64) []orphanNote {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return nil
	}
	out := s.undelivered
	s.undelivered = nil
	return out
}

// keepUndelivered stores orphan warnings that could not be sent yet.
func (s *state) keepUndelivered(term uint64, notes []orphanNote) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term == term {
		s.undelivered = append(s.undelivered, notes...)
	}
}

// poolsFingerprint changes whenever a pool's spec or deletion state does.
func poolsFingerprint(items []v1beta1.IPAddressPool) string {
	parts := make([]string, 0, len(items))
	for i := range items {
		p := &items[i]
		parts = append(parts, fmt.Sprintf("%s/%s/%d/%t", p.Name, p.UID, p.Generation, p.DeletionTimestamp != nil))
	}
	slices.Sort(parts)
	return strings.Join(parts, ";")
}

// allocation is the outcome of allocate.
type allocation struct {
	ipam.Assignment
	// PrevPool is the pool the Service held before ("" if none).
	PrevPool string
	// Replaced are IPs found in the Service's status that it does not keep,
	// and Why says why (see adopt).
	Replaced []netip.Addr
	Why      string
}

// allocate serves req. If the Service holds nothing yet but has IPs in its
// status (written before this term saw it), adopt decides whether it keeps
// them.
func (s *state) allocate(term uint64, req ipam.Request, current []netip.Addr) (allocation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return allocation{}, errNotLeading
	}
	var out allocation
	prev, had := s.alloc.Lookup(req.Key)
	if !had && len(current) > 0 {
		pool, inPool := s.alloc.PoolFor(current)
		var assignErr error
		if inPool {
			_, assignErr = s.alloc.Assign(req, current)
		}
		v := adopt(inPool, assignErr)
		switch v.Action {
		case adoptKeep:
			prev = ipam.Assignment{Pool: pool, IPs: current}
		case adoptReplace:
			out.Replaced, out.Why = current, v.Why
		case adoptRefuse:
			return allocation{}, v.Err
		}
	}
	// IPs the status shows and the Service moves off stay taken until
	// settled says the status shows the new ones: no other Service may be
	// given an IP a status still shows.
	a, err := s.alloc.AllocateRetaining(req, current)
	if err != nil {
		return allocation{PrevPool: prev.Pool}, err
	}
	out.Assignment, out.PrevPool = a, prev.Pool
	return out, nil
}

// settled records that the status of key shows its assignment: the IPs it
// moved off, if any, are free.
func (s *state) settled(term uint64, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term == term {
		s.alloc.ReleaseRetained(key)
	}
}

// release frees what key holds. It reports what was held.
func (s *state) release(term uint64, key string) (ipam.Assignment, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return ipam.Assignment{}, false, errNotLeading
	}
	delete(s.lastWrite, key)
	delete(s.orphans, key)
	a, ok := s.alloc.Lookup(key)
	if !ok {
		return ipam.Assignment{}, false, nil
	}
	s.alloc.Release(key)
	return a, true, nil
}

// lookup returns what key holds.
func (s *state) lookup(term uint64, key string) (ipam.Assignment, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return ipam.Assignment{}, false, errNotLeading
	}
	a, ok := s.alloc.Lookup(key)
	return a, ok, nil
}

// poolContains reports whether ips are addresses of the named pool, in the
// one meaning the allocator gives it (ipam.Allocator.PoolContains).
func (s *state) poolContains(term uint64, pool string, ips []netip.Addr) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return false, errNotLeading
	}
	return s.alloc.PoolContains(pool, ips), nil
}

// stale reports whether a cached Service at resourceVersion rv predates our
// last write to it. A resourceVersion that is not a number (it is opaque by
// contract; etcd's are numbers) makes nothing stale: the reconcile then runs
// on what it reads, and at worst repeats a write that changes nothing.
func (s *state) stale(key, rv string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, ok := s.lastWrite[key]
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || n >= last {
		delete(s.lastWrite, key)
		return false
	}
	return true
}

// wrote records the resourceVersion our write to key produced (see stale).
func (s *state) wrote(term uint64, key, rv string) {
	n, err := strconv.ParseUint(rv, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return
	}
	if err != nil {
		delete(s.lastWrite, key) // see stale
		return
	}
	if n > s.lastWrite[key] {
		s.lastWrite[key] = n
	}
}

// done records that term reconciled the object of kind and key, at
// resourceVersion rv ("" once it is gone), for the catch-up gauge and for
// tests.
func (s *state) done(term uint64, kind, key, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return
	}
	if kind == kindService {
		delete(s.swept, key)
		if rv == "" {
			delete(s.reconciled, key)
		} else {
			s.reconciled[key] = rv
		}
	}
	if p := s.pending[kind]; p[key] {
		delete(p, key)
		s.notePendingLocked()
	}
}

func (s *state) notePendingLocked() {
	for _, k := range []string{kindService, kindPool} {
		s.metrics.CatchUpPending.WithLabelValues(k).Set(float64(len(s.pending[k])))
	}
}

// isLoaded reports whether the barrier of the current term has passed.
func (s *state) isLoaded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term != 0 && s.loaded
}

// apiOnly reports whether the Service key is one the apiserver has shown
// this term and the cache may lack: listed by the barrier and not
// reconciled since, or found by a sweep. A cache miss for it is read from
// the apiserver instead.
func (s *state) apiOnly(term uint64, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term == term && (s.pending[kindService][key] || s.swept[key])
}

// markAPIOnly records Services a sweep found missing from the cache.
func (s *state) markAPIOnly(term uint64, keys []client.ObjectKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return
	}
	for _, k := range keys {
		s.swept[k.String()] = true
	}
}

// reconciledAt returns the resourceVersion at which this term last
// reconciled the Service key.
func (s *state) reconciledAt(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconciled[key]
}

// poolFacts is what the pool status is computed from.
type poolFacts struct {
	// InForce: the pool is in the allocator (valid, not overlapping).
	InForce bool
	Problem config.Problem
	Stats   ipam.PoolStats
	// Users is the number of Services holding IPs of the pool; Orphans
	// those among them whose IPs the pool no longer contains.
	Users, Orphans int
}

func (s *state) poolFacts(term uint64, name string) (poolFacts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return poolFacts{}, errNotLeading
	}
	f := poolFacts{}
	if p, ok := s.cfg.Problems[name]; ok {
		f.Problem = p
	} else if st, ok := s.alloc.PoolStats(name); ok {
		f.InForce, f.Stats = true, st
	}
	f.Users, f.Orphans = s.alloc.Users(name)
	return f, nil
}

// setQueue records the work queues of the two controllers, once they
// start.
func (s *state) setQueue(pool bool, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if pool {
		s.poolQ = q
	} else {
		s.svcQ = q
	}
}

func (s *state) queues() (svc, pool workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.svcQ, s.poolQ
}

// enqueuePool asks the pool reconciler to refresh pool's status after
// delay. Repeated requests within the delay collapse into one.
func (s *state) enqueuePool(pool string, delay time.Duration) {
	if pool == "" {
		return
	}
	if _, q := s.queues(); q != nil {
		q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Name: pool}}, delay)
	}
	// Otherwise the pool controller has not started; it will list every
	// pool when it does.
}

func key(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }
