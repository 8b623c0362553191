package bgp

import (
	"testing"
	"time"
)

// TestSessionUpSoonAfterSet guards the cold start (issue 18): a new
// session with 5,000 paths, to a router that listens, is Established
// within 3s of Set. Adding the paths takes well under a second; the rest
// is GoBGP's first dial, which waits a random 1-2s after the neighbour is
// added whatever its connect-retry timer says (pkg/server/fsm.go,
// connectLoop: the first timer uses minConnectRetryInterval, 1s, drawn
// from [1s, 2s)), and which no GoBGP v3 API shortens. The session keeps
// the default connect time (5s), as in production.
func TestSessionUpSoonAfterSet(t *testing.T) {
	const budget = 3 * time.Second
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}})
	h := startSpeaker(t)
	start := time.Now()
	h.set(desired(r.session("tor", "127.0.0.2", withNextHops("", "2001:db8::2"), func(s *Session) { s.ConnectTime = 0 })).with("tor", manyPaths(5000)...))
	for !h.status("tor").Established {
		if time.Since(start) > 3*budget {
			t.Fatalf("session not established %s after Set", 3*budget)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("established %s after Set", took.Round(time.Millisecond))
	if took > budget && !raceEnabled {
		t.Errorf("established %s after Set, over %s", took, budget)
	}
}
