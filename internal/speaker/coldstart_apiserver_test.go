package speaker

import (
	"context"
	"fmt"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/heraldlb/herald/internal/bgp"
)

// A speaker that starts with a BGPPeer whose password is in a Secret hands
// the router the session, with its password, in its very first BGP state:
// a session left out of the first plan would only open a plan later, after
// the Secret's watch had listed it, and every second before the first dial
// is a second of a cold start (issue 18). The first plan then gives it its
// path.
func TestFirstBGPStateHasThePassword(t *testing.T) {
	h := start(t, "node1", bgpCluster(t))
	waitFor(t, "a BGP state with paths", func() (bool, string) {
		d, ok := h.bgp.last()
		return ok && !d.PathsPending, describe(d)
	})
	if d, _ := h.bgp.first(); len(d.Sessions) != 1 || d.Sessions[0].Password != "s3cret" {
		t.Errorf("first BGP state %s; want session tor with its password", describe(d))
	}
	if d, _ := h.bgp.last(); len(d.Sessions) != 1 || d.Sessions[0].Password != "s3cret" || len(d.Paths["tor"]) != 1 {
		t.Errorf("the first plan's BGP state %s; want session tor with its password and one path", describe(d))
	}
}

// TestSessionsOpenBeforeTheServicesAreListed is the cold start of issue
// 18: while the Services cache has not synced (here it is held back), the
// speaker has already handed the router its session, paths pending, so
// that GoBGP's 1-2s wait before its first dial overlaps the listing of a
// large cluster's Services. Once the cache syncs, the first plan gives
// the same session its path.
func TestSessionsOpenBeforeTheServicesAreListed(t *testing.T) {
	gate := make(chan struct{})
	h := startDeps(t, "node1", bgpCluster(t), func(d *Deps) { d.Cache = &heldCache{Cache: d.Cache, open: gate} })
	waitFor(t, "the session handed to the router before the caches synced", func() (bool, string) {
		_, ok := h.bgp.first()
		return ok, "no BGP state yet"
	})
	d, _ := h.bgp.first()
	if !d.PathsPending || len(d.Sessions) != 1 || d.Sessions[0].Name != "tor" || d.Sessions[0].Password != "s3cret" {
		t.Errorf("BGP state before the caches synced: %s, pending %v; want session tor with its password, paths pending", describe(d), d.PathsPending)
	}
	if _, calls := h.ann.history(); len(calls) > 0 {
		t.Errorf("the speaker planned (%v) before its caches synced", calls)
	}

	close(gate)
	waitFor(t, "the first plan's BGP state", func() (bool, string) {
		d, _ := h.bgp.last()
		return !d.PathsPending && len(d.Paths["tor"]) == 1, describe(d)
	})
	last, _ := h.bgp.last()
	if fmt.Sprint(last.Sessions) != fmt.Sprint(d.Sessions) {
		t.Errorf("the first plan changed the session\nearly %+v\nplan  %+v", d.Sessions, last.Sessions)
	}
}

// bgpCluster sets up the BGP cluster of setUpBGP with one Service, whose
// endpoint is on node2, and returns a membership with all three nodes
// alive.
func bgpCluster(t *testing.T) *fakeMembership {
	t.Helper()
	ns := setUp(t)
	setUpBGP(t)
	service(t, ns, "api", "203.0.113.70", nil, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	return mem
}

// heldCache is a cache whose WaitForCacheSync does not return before open
// is closed: a Services list that takes long.
type heldCache struct {
	cache.Cache
	open <-chan struct{}
}

func (c *heldCache) WaitForCacheSync(ctx context.Context) bool {
	select {
	case <-c.open:
	case <-ctx.Done():
		return false
	}
	return c.Cache.WaitForCacheSync(ctx)
}

func describe(d bgp.Desired) string {
	var names []string
	for _, s := range d.Sessions {
		names = append(names, fmt.Sprintf("%s (password set: %v, %d paths)", s.Name, s.Password != "", len(d.Paths[s.Name])))
	}
	return fmt.Sprintf("%d sessions %v", len(d.Sessions), names)
}
