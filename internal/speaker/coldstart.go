package speaker

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/plan"
)

// openEarly hands the router this node's BGP sessions, their paths
// pending, as soon as the kinds they are planned from have synced
// (sessionsSynced) and their password Secrets are read, while a large
// cluster's Services and EndpointSlices are still being listed. GoBGP
// dials a new neighbour only 1-2s after it is added, whatever its timers
// say (pkg/server/fsm.go, connectLoop), and that wait then overlaps the
// caches' sync instead of following the first plan, whose paths go out on
// the session that is up by then. It returns the state offered, nil when
// none was.
func (s *Speaker) openEarly(ctx context.Context, sessionsSynced []toolscache.InformerSynced, routes chan bgp.Desired) *bgp.Desired {
	if !toolscache.WaitForCacheSync(ctx.Done(), sessionsSynced...) {
		return nil // ctx ended; the wait for every cache says so
	}
	s.primePasswords(ctx)
	sessions, err := s.earlySessions(ctx)
	if err != nil {
		s.opts.Log.Error(err, "cannot plan the BGP sessions before the Services are listed; they open with the first plan")
		return nil
	}
	if len(sessions) == 0 {
		return nil
	}
	d := bgpDesired(plan.BGP{Sessions: sessions})
	d.PathsPending = true
	offer(routes, d)
	s.opts.Log.Info("BGP sessions opening before the first plan; their routes follow it", "sessions", len(sessions))
	return &d
}

// earlySessions plans this node's BGP sessions from the configuration,
// its Node and the passwords read so far, as the first plan will.
func (s *Speaker) earlySessions(ctx context.Context) ([]plan.Session, error) {
	cfg, _, err := s.readConfig(ctx)
	if err != nil {
		return nil, err
	}
	in := plan.Inputs{Self: s.opts.Node, Config: cfg}
	var n corev1.Node
	switch err := s.deps.Cache.Get(ctx, client.ObjectKey{Name: s.opts.Node}, &n); {
	case err == nil:
		in.Nodes, in.SelfAddrs = []plan.Node{plan.NodeFrom(&n)}, internalIPs(&n)
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("read Node %s from the cache: %w", s.opts.Node, err)
	}
	in.Passwords, in.Unreadable = s.pw.passwords()
	sessions, _ := plan.Sessions(in)
	return sessions, nil
}
