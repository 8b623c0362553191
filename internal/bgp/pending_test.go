package bgp

import (
	"net/netip"
	"testing"
)

// pending is the state a starting speaker hands over before its first
// plan: the sessions, their paths not known yet.
func pending(sessions ...Session) Desired {
	return Desired{Sessions: sessions, Paths: map[string][]Path{}, PathsPending: true}
}

// TestPendingPathsOpenTheSessionFirst is the cold start of issue 18: a
// session handed over before its paths are known comes up without them,
// and the paths of the first plan then go out on it, none withdrawn.
// GoBGP's first dial waits 1-2s after the neighbour is added, so opening
// the session while the speaker still lists Services takes that wait off
// the start-up.
func TestPendingPathsOpenTheSessionFirst(t *testing.T) {
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}})
	h := startSpeaker(t)
	s := r.session("tor", "127.0.0.2", withNextHops("", "2001:db8::2"))

	h.set(pending(s).with("tor", path("198.51.100.9/32")))
	h.waitEstablished("tor")
	if n := r.count("127.0.0.2"); n != 0 {
		t.Errorf("the router has %d paths from a session whose paths are pending; want none (Paths is ignored)", n)
	}

	h.set(desired(s).with("tor", path("198.51.100.1/32"), path("2001:db8:1::1/128")))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2", "2001:db8:1::1/128": "nh 2001:db8::2"})

	// Pending again (say, a later state whose paths are unknown): the
	// open session keeps what it advertises.
	h.set(pending(s))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2", "2001:db8:1::1/128": "nh 2001:db8::2"})
	h.wantServers(map[string]contents{
		"tor": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.1/32 nh 0.0.0.0", "2001:db8:1::1/128 nh 2001:db8::2"}},
	}, 1)
}

// TestPendingPathsHoldBackGracefulRestart: a session with graceful
// restart is not opened before its paths are known. GoBGP sends the
// End-of-RIB as soon as the router's arrives; sent with no paths, it
// would end the router's wait for the routes it kept across this node's
// restart, and they would be withdrawn and advertised again.
func TestPendingPathsHoldBackGracefulRestart(t *testing.T) {
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast}, gr: true})
	r.addNeighbor(neighbor{addr: "127.0.0.3", asn: nodeASN, families: []Family{IPv4Unicast}})
	h := startSpeaker(t)
	gr := r.session("gr", "127.0.0.2", withGR(), withFamilies(IPv4Unicast))
	plain := r.session("plain", "127.0.0.3", withFamilies(IPv4Unicast))

	// Set returns once the state is applied: the plain session is open,
	// the one with graceful restart is not.
	h.set(pending(gr, plain))
	var names []string
	for _, st := range h.sp.Status() {
		names = append(names, st.Name)
	}
	if len(names) != 1 || names[0] != "plain" {
		t.Fatalf("open sessions %v while the paths are pending; want only plain", names)
	}

	h.set(desired(gr, plain).with("gr", path("198.51.100.1/32")).with("plain", path("198.51.100.2/32")))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2"})
	wantPaths(t, r, "127.0.0.3", map[string]string{"198.51.100.2/32": "nh 127.0.0.3"})
}

// TestHoldPending is the pure rule behind the two tests above.
func TestHoldPending(t *testing.T) {
	open := Session{Name: "open", PeerAddress: netip.MustParseAddr("192.0.2.1")}
	changed := open
	changed.HoldTime = 30
	kept := map[netip.Prefix]Path{netip.MustParsePrefix("198.51.100.1/32"): {Prefix: netip.MustParsePrefix("198.51.100.1/32")}}
	newPlain := Session{Name: "new", PeerAddress: netip.MustParseAddr("192.0.2.2")}
	newGR := Session{Name: "new-gr", PeerAddress: netip.MustParseAddr("192.0.2.3"), GracefulRestart: true}
	cur := map[string]applied{"open": {session: open, paths: kept}}

	tests := []struct {
		name        string
		want        []Session
		wantPaths   map[string]int // paths per session in the target
		wantUntouch []string
	}{
		{name: "an open session keeps its paths", want: []Session{open}, wantPaths: map[string]int{"open": 1}},
		{name: "a reconfigured session opens again without paths", want: []Session{changed}, wantPaths: map[string]int{"open": 0}},
		{name: "a new session opens without paths", want: []Session{open, newPlain}, wantPaths: map[string]int{"open": 1, "new": 0}},
		{name: "a new session with graceful restart waits", want: []Session{newGR}, wantPaths: map[string]int{}, wantUntouch: []string{"new-gr"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := target{sessions: map[string]Session{}, paths: map[string]map[netip.Prefix]Path{}, untouched: map[string]bool{}}
			for _, s := range tc.want {
				want.sessions[s.Name] = s
				want.paths[s.Name] = map[netip.Prefix]Path{netip.MustParsePrefix("203.0.113.1/32"): {Prefix: netip.MustParsePrefix("203.0.113.1/32")}}
			}
			got := holdPending(want, cur)
			if len(got.sessions) != len(tc.wantPaths) {
				t.Errorf("sessions %v, want %v", got.sessions, tc.wantPaths)
			}
			for name, n := range tc.wantPaths {
				if _, ok := got.sessions[name]; !ok || len(got.paths[name]) != n {
					t.Errorf("session %s: present %v, %d paths; want %d", name, ok, len(got.paths[name]), n)
				}
			}
			for _, name := range tc.wantUntouch {
				if !got.untouched[name] {
					t.Errorf("session %s not left untouched", name)
				}
			}
			if c := diff(cur, got); len(c.withdraw) > 0 {
				t.Errorf("the change withdraws %v", c.withdraw)
			}
		})
	}
}
