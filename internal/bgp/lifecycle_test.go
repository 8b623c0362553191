package bgp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// contents is what one of the speaker's GoBGP servers holds.
type contents struct {
	neighbors []string // address and hold time
	paths     []string // the global RIB
	policies  []string
	sets      int // defined sets
}

func (c contents) String() string {
	return fmt.Sprintf("neighbors %v paths %v policies %v sets %d", c.neighbors, c.paths, c.policies, c.sets)
}

// inspect reads every server of the speaker: those of open sessions by
// name, and the idle ones.
func (h *harness) inspect() (open map[string]contents, idle []contents) {
	h.t.Helper()
	v := h.sp.view.Load()
	open = map[string]contents{}
	for name, gs := range v.servers {
		open[name] = serverContents(h.t, gs, true)
	}
	for _, gs := range v.idle {
		idle = append(idle, serverContents(h.t, gs, false))
	}
	return open, idle
}

func serverContents(t *testing.T, gs *gobgpServer, started bool) contents {
	t.Helper()
	ctx := context.Background()
	var c contents
	err := gs.srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		c.neighbors = append(c.neighbors, fmt.Sprintf("%s hold %ds", p.Conf.NeighborAddress, p.Timers.GetConfig().GetHoldTime()))
	})
	if err != nil {
		t.Fatalf("list neighbours: %v", err)
	}
	if !started {
		return c
	}
	for _, f := range []Family{IPv4Unicast, IPv6Unicast} {
		err := gs.srv.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: apiFamily(f)}, func(d *api.Destination) {
			for _, p := range d.Paths {
				pfx, r := decodeReceived(t, p)
				c.paths = append(c.paths, pfx.String()+" "+r.String())
			}
		})
		if err != nil {
			t.Fatalf("list paths: %v", err)
		}
	}
	slices.Sort(c.paths)
	if err := gs.srv.ListPolicy(ctx, &api.ListPolicyRequest{}, func(p *api.Policy) { c.policies = append(c.policies, p.Name) }); err != nil {
		t.Fatalf("list policies: %v", err)
	}
	if err := gs.srv.ListDefinedSet(ctx, &api.ListDefinedSetRequest{DefinedType: api.DefinedType_PREFIX}, func(*api.DefinedSet) { c.sets++ }); err != nil {
		t.Fatalf("list defined sets: %v", err)
	}
	return c
}

// wantServers checks the speaker's servers: open ones hold exactly one
// neighbour, exactly their session's paths and only the import policy;
// idle ones hold nothing; and there are no more servers than maxOpen.
func (h *harness) wantServers(want map[string]contents, maxOpen int) {
	h.t.Helper()
	open, idle := h.inspect()
	for name, w := range want {
		w.policies = []string{importPolicy}
		if got := open[name]; got.String() != w.String() {
			h.t.Errorf("server of session %s:\ngot  %s\nwant %s", name, got, w)
		}
	}
	for name := range open {
		if _, ok := want[name]; !ok {
			h.t.Errorf("server of session %s still open: %s", name, open[name])
		}
	}
	for i, c := range idle {
		if len(c.neighbors) != 0 {
			h.t.Errorf("idle server %d has neighbours %v", i, c.neighbors)
		}
	}
	if n := len(open) + len(idle); n > maxOpen {
		h.t.Errorf("%d servers for at most %d sessions open at once", n, maxOpen)
	}
}

// TestWithdrawals checks that the router loses a path when Set leaves it
// out, when its session goes, and when Run ends; the last two through a
// NOTIFICATION Cease, long before the 90s hold time could expire.
func TestWithdrawals(t *testing.T) {
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	h := startSpeaker(t)
	s := r.session("tor", "127.0.0.2", withFamilies(IPv4Unicast))
	nh := "nh 127.0.0.2"

	h.set(desired(s).with("tor", path("198.51.100.1/32"), path("198.51.100.2/32")))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": nh, "198.51.100.2/32": nh})

	h.set(desired(s).with("tor", path("198.51.100.1/32", comms(community(64512, 1)))))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": nh + " comm 64512:1"})

	notifications := func() uint64 {
		return r.peerState("127.0.0.2").GetState().GetMessages().GetReceived().GetNotification()
	}
	// ceased waits for the router to have dropped the session and its
	// paths after receiving a NOTIFICATION beyond the before first.
	ceased := func(what string, before uint64, start time.Time) {
		t.Helper()
		eventually(t, 5*time.Second, what, func() error {
			if n := len(r.paths("127.0.0.2")); n != 0 || r.established("127.0.0.2") {
				return fmt.Errorf("%d paths, established %v", n, r.established("127.0.0.2"))
			}
			if got := r.peerState("127.0.0.2").GetState().GetMessages().GetReceived().GetNotification(); got <= before {
				return fmt.Errorf("no NOTIFICATION received (%d before, %d now)", before, got)
			}
			return nil
		})
		t.Logf("%s: the router dropped everything after %s", what, time.Since(start).Round(time.Millisecond))
	}
	before, start := notifications(), time.Now()
	h.set(Desired{})
	ceased("session removed", before, start)

	h.set(desired(s).with("tor", path("198.51.100.3/32")))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.3/32": nh})
	before, start = notifications(), time.Now()
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ceased("Run returned", before, start)
	if err := h.trySet(Desired{}); err != ErrStopped {
		t.Errorf("Set after Run returned: %v, want ErrStopped", err)
	}
	if st := h.sp.Status(); len(st) != 0 {
		t.Errorf("status after Run returned: %+v", st)
	}
}

// TestNothingLeaks runs Set calls over two routers and checks, after each,
// both the routers and the speaker's GoBGP servers: every session's paths
// reach only its router, with its own attributes; sessions may differ in
// ASN and router ID; and no path, neighbour, policy or server outlives
// what Set asked for.
func TestNothingLeaks(t *testing.T) {
	a := startRouter(t, "127.0.0.1", routerASN)
	a.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	a.addNeighbor(neighbor{addr: "127.0.0.3", asn: nodeASN + 8})
	b := startRouter(t, "127.0.0.1", routerASN+1)
	b.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	h := startSpeaker(t)
	v4 := withFamilies(IPv4Unicast)
	a1 := a.session("a1", "127.0.0.2", v4)
	a2 := a.session("a2", "127.0.0.3", v4, withASNs(nodeASN+8, routerASN), withRouterID("198.51.100.3"))
	bs := b.session("b", "127.0.0.2", v4)
	c1, c2 := comms(community(64512, 1)), comms(community(64512, 2))
	nh2, nh3 := "nh 127.0.0.2", "nh 127.0.0.3"

	// Step 1: the same prefix to both routers, with different communities.
	h.set(desired(a1, a2, bs).
		with("a1", path("198.51.100.1/32", c1), path("198.51.100.2/32")).
		with("a2", path("198.51.100.3/32")).
		with("b", path("198.51.100.1/32", c2), path("198.51.100.4/32")))
	wantPaths(t, a, "127.0.0.2", map[string]string{"198.51.100.1/32": nh2 + " comm 64512:1", "198.51.100.2/32": nh2})
	wantPaths(t, a, "127.0.0.3", map[string]string{"198.51.100.3/32": nh3})
	wantPaths(t, b, "127.0.0.2", map[string]string{"198.51.100.1/32": nh2 + " comm 64512:2", "198.51.100.4/32": nh2})
	h.wantServers(map[string]contents{
		"a1": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.1/32 nh 0.0.0.0 comm 64512:1", "198.51.100.2/32 nh 0.0.0.0"}},
		"a2": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.3/32 nh 0.0.0.0"}},
		"b":  {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.1/32 nh 0.0.0.0 comm 64512:2", "198.51.100.4/32 nh 0.0.0.0"}},
	}, 3)

	// Step 2: new attributes, a new path, a withdrawal, a session emptied.
	h.set(desired(a1, a2, bs).
		with("a1", path("198.51.100.1/32", c2), path("198.51.100.5/32")).
		with("a2", path("198.51.100.3/32")))
	wantPaths(t, a, "127.0.0.2", map[string]string{"198.51.100.1/32": nh2 + " comm 64512:2", "198.51.100.5/32": nh2})
	wantPaths(t, a, "127.0.0.3", map[string]string{"198.51.100.3/32": nh3})
	wantPaths(t, b, "127.0.0.2", map[string]string{})
	h.wantServers(map[string]contents{
		"a1": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.1/32 nh 0.0.0.0 comm 64512:2", "198.51.100.5/32 nh 0.0.0.0"}},
		"a2": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.3/32 nh 0.0.0.0"}},
		"b":  {neighbors: []string{"127.0.0.1 hold 90s"}},
	}, 3)

	// Step 3: a2 re-created with a new hold time; b gone.
	a2.HoldTime = 30 * time.Second
	h.set(desired(a1, a2).
		with("a1", path("198.51.100.5/32")).
		with("a2", path("198.51.100.3/32")))
	wantPaths(t, a, "127.0.0.2", map[string]string{"198.51.100.5/32": nh2})
	wantPaths(t, a, "127.0.0.3", map[string]string{"198.51.100.3/32": nh3})
	eventually(t, 5*time.Second, "router b loses the session", func() error {
		if b.established("127.0.0.2") {
			return fmt.Errorf("still established")
		}
		return nil
	})
	h.wantServers(map[string]contents{
		"a1": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.5/32 nh 0.0.0.0"}},
		"a2": {neighbors: []string{"127.0.0.1 hold 30s"}, paths: []string{"198.51.100.3/32 nh 0.0.0.0"}},
	}, 3)

	// Step 4: nothing.
	h.set(Desired{})
	wantPaths(t, a, "127.0.0.2", map[string]string{})
	wantPaths(t, a, "127.0.0.3", map[string]string{})
	h.wantServers(map[string]contents{}, 3)
	if st := h.sp.Status(); len(st) != 0 {
		t.Errorf("status: %+v", st)
	}
	if n := seriesCount(t, h.metrics); n != 0 {
		t.Errorf("%d metric series left", n)
	}
	if lines := h.log.matching("level\"=1"); len(lines) > 0 && strings.Contains(strings.Join(lines, "\n"), "panic") {
		t.Errorf("GoBGP complained: %q", lines)
	}
}
