package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
)

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
		ips := config.IngressIPs(svc)
		if !ours(svc) || svc.DeletionTimestamp != nil || len(ips) == 0 {
			continue
		}
		req, err := config.Request(svc, snap.namespaces[svc.Namespace])
		if err != nil {
			// Keep the IP all the same: a bad annotation never takes it away.
			req = ipam.Request{Key: key(svc), Namespace: svc.Namespace, SharingKey: config.SharingKey(svc)}
		}
		if req.Pool == "" {
			// An IP a pool edit left outside its pool stays that pool's
			// orphan, as it was before the restart.
			req.Pool = config.AllocatedFromPool(svc)
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

// apiOnly reports whether the Service key is one the apiserver has shown
// this term and the cache may lack: listed by the barrier and not
// reconciled since, or read from the apiserver before. A cache miss for it
// is read from the apiserver instead.
func (s *state) apiOnly(term uint64, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.term == term && (s.pending[kindService][key] || s.uncached[key])
}

// markUncached records Services the apiserver has and the cache lacks.
func (s *state) markUncached(term uint64, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return
	}
	for _, k := range keys {
		s.uncached[k] = true
	}
}

// checkUncached forgets the uncached Services the cache now shows, whose
// deletions its events will bring, and returns those that neither the
// cache nor the apiserver has: deleted before the cache saw them, so no
// event will ever say so. left counts the uncached Services that remain.
func (s *state) checkUncached(term uint64, inCache, inAPI func(string) bool) (gone []string, left int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term != term {
		return nil, 0
	}
	for k := range s.uncached {
		switch {
		case inCache(k):
			delete(s.uncached, k)
		case !inAPI(k):
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	return gone, len(s.uncached)
}
