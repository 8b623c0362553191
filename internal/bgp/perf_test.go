package bgp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// manyPaths returns n distinct paths from documentation space: every
// prefix of length /24 to /32 inside 198.51.100.0/24 and 203.0.113.0/24
// (1,022 of them), then IPv6 /128s from 2001:db8:1::/64.
func manyPaths(n int, opts ...func(*Path)) []Path {
	var ps []Path
	for _, base := range []string{"198.51.100.0", "203.0.113.0"} {
		b := netip.MustParseAddr(base).As4()
		for bits := 24; bits <= 32; bits++ {
			for i := range 1 << (bits - 24) {
				a := b
				a[3] = byte(i << (32 - bits))
				ps = append(ps, path(netip.PrefixFrom(netip.AddrFrom4(a), bits).String(), opts...))
			}
		}
	}
	for i := 0; len(ps) < n; i++ {
		ps = append(ps, path(fmt.Sprintf("2001:db8:1::%x/128", i+1), opts...))
	}
	return ps[:n]
}

// TestFiveThousandPaths measures the 10s target: from Set to the router
// having all 5,000 paths, on a new session and on an established one, and
// the same for attribute changes and withdrawals. It logs the figures.
func TestFiveThousandPaths(t *testing.T) {
	const n, target = 5000, 10 * time.Second
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}})
	h := startSpeaker(t)
	s := r.session("tor", "127.0.0.2", withNextHops("", "2001:db8::2"))
	tagged := comms(community(64512, 7))

	steps := []struct {
		name  string
		paths []Path
		// done reports whether the router has the outcome.
		done func() bool
	}{{
		name:  "new session with 5,000 paths",
		paths: manyPaths(n),
		done:  func() bool { return r.count("127.0.0.2") == n },
	}, {
		name:  "withdraw all 5,000",
		paths: nil,
		done:  func() bool { return r.count("127.0.0.2") == 0 },
	}, {
		name:  "advertise 5,000 on the established session",
		paths: manyPaths(n),
		done:  func() bool { return r.count("127.0.0.2") == n },
	}, {
		name:  "new community on all 5,000",
		paths: manyPaths(n, tagged),
		done: func() bool {
			ps := r.paths("127.0.0.2")
			for _, p := range ps {
				if len(p.Communities) != 1 {
					return false
				}
			}
			return len(ps) == n
		},
	}}
	for _, st := range steps {
		start := time.Now()
		h.set(desired(s).with("tor", st.paths...))
		set := time.Since(start)
		for !st.done() {
			if time.Since(start) > 2*target {
				t.Fatalf("%s: the router has %d paths after %s", st.name, r.count("127.0.0.2"), 2*target)
			}
			time.Sleep(5 * time.Millisecond)
		}
		total := time.Since(start)
		t.Logf("%-45s Set returned after %6s, the router had it all after %6s", st.name+":", set.Round(time.Millisecond), total.Round(time.Millisecond))
		if total > target && !raceEnabled {
			t.Errorf("%s: %s, over the %s target", st.name, total, target)
		}
	}
	if got := h.status("tor").PrefixesSent; got != n {
		t.Errorf("PrefixesSent %d, want %d", got, n)
	}
}
