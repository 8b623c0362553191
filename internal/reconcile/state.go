package reconcile

import (
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
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/metrics"
)

// errNotLeading means the work belongs to a leadership term that has ended
// (or never began): it is dropped, because the next leader starts over from
// what the apiserver holds.
var errNotLeading = errors.New("this replica does not lead")

// errStale marks a write refused because it was computed from an older
// version of the object than the apiserver holds (the informer cache had
// not caught up yet). It is an expected outcome, not a failure: the
// reconcile is retried, and then reads the newer version.
var errStale = errors.New("computed from a stale version")

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
	// lease bounds every write by the time the leader-election Lease is
	// surely this replica's; nil without leader election. Set once, before
	// the manager starts.
	lease *fencedLock
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
	// uncached are the Services this term read from the apiserver because
	// the cache lacked them. Until the cache shows one, its deletion raises
	// no event, so the sweep checks them against the apiserver.
	uncached map[string]bool
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
	s.uncached = map[string]bool{}
	s.work = &sync.WaitGroup{}
	for _, k := range []string{kindService, kindPool} {
		s.metrics.CatchUpPending.WithLabelValues(k).Set(0)
	}
}

// orphanNote is a Service that a pool edit left with IPs outside its pool.
type orphanNote struct {
	key  string
	pool string
	ips  []netip.Addr
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
		s.metrics.ConfigStale.Set(1)
		return nil, fmt.Errorf("apply pools (the last good set stays in force): %w", err)
	}
	s.cfg, s.poolsFP = cfg, fp
	s.metrics.ConfigLoaded.Set(1)
	s.metrics.ConfigStale.Set(map[bool]float64{true: 1}[len(cfg.Problems) > 0])
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
		if rv == "" {
			delete(s.reconciled, key)
			delete(s.uncached, key)
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
