package reconcile

import (
	"cmp"
	"context"
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
)

// state is what the reconcilers share: the allocator and what the
// controller knows about its own writes. Every field is guarded by mu.
type state struct {
	mu     sync.Mutex
	alloc  *ipam.Allocator
	loaded bool
	// poolsFP identifies the pool objects cfg was built from.
	poolsFP string
	cfg     config.Config
	// orphans are the keys whose IPs were outside their pool after the last
	// pool change, so that the next change warns only about new ones.
	orphans map[string]bool
	// lastWrite is, per Service key, the resourceVersion returned by our
	// last write to it. A cached object older than that is stale: the watch
	// event of our write will trigger another reconcile.
	lastWrite map[string]uint64

	qmu   sync.Mutex
	poolQ workqueue.TypedRateLimitingInterface[reconcile.Request]
}

func newState() *state {
	return &state{
		alloc:     ipam.New(),
		orphans:   map[string]bool{},
		lastWrite: map[string]uint64{},
	}
}

// orphanNote is a Service that a pool edit left with IPs outside its pool.
type orphanNote struct {
	key  string
	pool string
	ips  []netip.Addr
}

// ensureLoaded is the start-up barrier: the first call loads the pools, then
// every assignment recorded in the status of the Services we handle, oldest
// Service first. Later calls return at once. No event or write is made.
func (s *state) ensureLoaded(ctx context.Context, c client.Reader, ours func(*corev1.Service) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	var pools v1beta1.IPAddressPoolList
	if err := c.List(ctx, &pools); err != nil {
		return fmt.Errorf("list pools: %w", err)
	}
	s.setPoolsLocked(pools.Items)
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for i := range nss.Items {
		nsLabels[nss.Items[i].Name] = nss.Items[i].Labels
	}
	items := slices.Clone(svcs.Items)
	slices.SortFunc(items, func(a, b corev1.Service) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	logger := log.FromContext(ctx)
	n := 0
	for i := range items {
		svc := &items[i]
		ips := kube.IngressIPs(svc)
		if !ours(svc) || svc.DeletionTimestamp != nil || len(ips) == 0 {
			continue
		}
		req, err := config.Request(svc, nsLabels[svc.Namespace])
		if err != nil {
			// Keep the IP all the same: a bad annotation never takes it away.
			req = ipam.Request{Key: key(svc), Namespace: svc.Namespace, SharingKey: svc.Annotations[config.AnnotationAllowSharedIP]}
		}
		if _, err := s.alloc.Assign(req, ips); err != nil {
			logger.Info("not restoring assignment: it conflicts with an older Service's; it will be reallocated", "service", req.Key, "ips", ips, "error", err.Error())
			continue
		}
		n++
	}
	for _, k := range s.alloc.Orphans() {
		s.orphans[k] = true
	}
	s.loaded = true
	logger.Info("start-up barrier passed: existing assignments loaded", "pools", len(s.cfg.Pools), "services", n)
	return nil
}

// syncPools brings the allocator's pools up to date with the cached pool
// objects. It returns the Services that the change orphaned.
func (s *state) syncPools(ctx context.Context, c client.Reader) ([]orphanNote, error) {
	var pools v1beta1.IPAddressPoolList
	if err := c.List(ctx, &pools); err != nil {
		return nil, fmt.Errorf("list pools: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setPoolsLocked(pools.Items), nil
}

func (s *state) setPoolsLocked(items []v1beta1.IPAddressPool) []orphanNote {
	fp := poolsFingerprint(items)
	if fp == s.poolsFP {
		return nil
	}
	cfg := config.Pools(items)
	if err := s.alloc.SetPools(cfg.Pools); err != nil {
		// config only passes parsed pools with unique names; keep the last
		// good set if that ever fails.
		return nil
	}
	s.cfg, s.poolsFP = cfg, fp
	var notes []orphanNote
	now := map[string]bool{}
	for _, k := range s.alloc.Orphans() {
		now[k] = true
		if !s.orphans[k] && s.loaded {
			a, _ := s.alloc.Lookup(k)
			notes = append(notes, orphanNote{key: k, pool: a.Pool, ips: a.IPs})
		}
	}
	s.orphans = now
	return notes
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

// allocate serves req. If the Service holds nothing yet but has IPs in its
// status (written before this controller saw it), they are recorded first so
// that they are kept if they still satisfy req. It returns the new
// assignment and the pool the Service held before ("" if none).
func (s *state) allocate(req ipam.Request, current []netip.Addr) (ipam.Assignment, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, had := s.alloc.Lookup(req.Key)
	if !had && len(current) > 0 {
		if _, err := s.alloc.Assign(req, current); err == nil {
			prev, _ = s.alloc.Lookup(req.Key)
		}
	}
	a, err := s.alloc.Allocate(req)
	if err != nil {
		return ipam.Assignment{}, prev.Pool, err
	}
	return a, prev.Pool, nil
}

// release frees what key holds and returns its pool ("" if nothing).
func (s *state) release(key string) (ipam.Assignment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alloc.Lookup(key)
	if !ok {
		return ipam.Assignment{}, false
	}
	s.alloc.Release(key)
	delete(s.orphans, key)
	delete(s.lastWrite, key)
	return a, true
}

// inPool reports whether every one of ips lies in the named pool.
func (s *state) inPool(pool string, ips []netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.cfg.Pools {
		if p.Name == pool {
			return p.ContainsAll(ips)
		}
	}
	return false
}

// closed reports whether pool is being deleted.
func (s *state) closed(pool string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Closed[pool]
}

// stale reports whether a cached Service at resourceVersion rv predates our
// last write to it.
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

func (s *state) wrote(key, rv string) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.lastWrite[key] {
		s.lastWrite[key] = n
	}
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

func (s *state) poolFacts(name string) poolFacts {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := poolFacts{}
	if p, ok := s.cfg.Problems[name]; ok {
		f.Problem = p
	} else if st, ok := s.alloc.PoolStats(name); ok {
		f.InForce, f.Stats = true, st
	}
	f.Users, f.Orphans = s.alloc.Users(name)
	return f
}

// enqueuePool asks the pool reconciler to refresh pool's status after
// delay. Repeated requests within the delay collapse into one.
func (s *state) enqueuePool(pool string, delay time.Duration) {
	if pool == "" {
		return
	}
	s.qmu.Lock()
	q := s.poolQ
	s.qmu.Unlock()
	if q == nil {
		return // the pool controller has not started; it will list every pool
	}
	q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Name: pool}}, delay)
}

func key(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }
