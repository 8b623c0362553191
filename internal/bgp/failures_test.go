package bgp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSessionFailures makes sessions fail on purpose and checks that each
// stays down with a LastError a user understands, logged once although
// GoBGP retries: the test first waits for several attempts.
func TestSessionFailures(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the session, and a count of its attempts so far.
		setup func(t *testing.T, h *harness) (Session, func() int)
		want  string
	}{{
		name: "the router has another ASN",
		setup: func(t *testing.T, h *harness) (Session, func() int) {
			r := startRouter(t, "127.0.0.1", routerASN)
			r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
			return r.session("tor", "127.0.0.2", withASNs(nodeASN, 64999)), opensReceived(r, "127.0.0.2")
		},
		want: "peer ASN mismatch: the router does not use peerASN 64999 (we sent NOTIFICATION OPEN Message Error / Bad Peer AS: as number mismatch expected 64999, received 64513)",
	}, {
		name: "the router expects another ASN from us",
		setup: func(t *testing.T, h *harness) (Session, func() int) {
			r := startRouter(t, "127.0.0.1", routerASN)
			r.addNeighbor(neighbor{addr: "127.0.0.2", asn: 64999})
			return r.session("tor", "127.0.0.2"), opensReceived(r, "127.0.0.2")
		},
		// GoBGP drops the NOTIFICATION's codes before a session is up.
		want: "the router refused our OPEN with a NOTIFICATION, most likely a peer ASN mismatch: check that the router's neighbour for 127.0.0.2 expects ASN 64512",
	}, {
		name: "nothing listens",
		setup: func(t *testing.T, h *harness) (Session, func() int) {
			r := &router{addr: netip.MustParseAddr("127.0.0.1"), port: freePort(t, netip.MustParseAddr("127.0.0.1")), asn: routerASN}
			return r.session("tor", "127.0.0.2"), func() int { return len(h.log.matching("failed to connect")) }
		},
		want: "connection refused by 127.0.0.1:",
	}, {
		name: "the router has no neighbour for us",
		setup: func(t *testing.T, h *harness) (Session, func() int) {
			r := startRouter(t, "127.0.0.1", routerASN)
			return r.session("tor", "127.0.0.2"), func() int { return len(h.log.matching("state changed", `"new"="BGP_FSM_OPENSENT"`)) }
		},
		want: "the router closed the connection before the session came up: it may have no neighbour for 127.0.0.2, or refuse it",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := startSpeakerV(t, vGoBGPDebug)
			s, attempts := tc.setup(t, h)
			h.set(desired(s).with("tor", path("198.51.100.1/32")))
			eventually(t, 40*time.Second, "three attempts", func() error {
				if n := attempts(); n < 3 {
					return fmt.Errorf("%d attempts", n)
				}
				return nil
			})
			st := h.status("tor")
			if st.Established || !strings.HasPrefix(st.LastError, tc.want) {
				t.Errorf("status %+v\nwant LastError %q", st, tc.want)
			}
			if lines := h.log.matching("BGP session not up"); len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("log lines about the failure (want one): %q", lines)
			}
		})
	}
}

// opensReceived counts the OPEN messages the router got from addr.
func opensReceived(r *router, addr string) func() int {
	return func() int {
		return int(r.peerState(addr).GetState().GetMessages().GetReceived().GetOpen())
	}
}

// TestDynamicASNExternalRefusesOurOwnASN: GoBGP takes any ASN when the
// session has dynamicASN, so "external" is enforced by resetting a
// session whose router turns out to use our own ASN.
func TestDynamicASNExternalRefusesOurOwnASN(t *testing.T) {
	r := startRouter(t, "127.0.0.1", nodeASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	h := startSpeaker(t)
	s := r.session("tor", "127.0.0.2", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNExternal })
	h.set(desired(s).with("tor", path("198.51.100.1/32")))
	const want = "the router uses our own ASN 64512, but dynamicASN is external: resetting the session"
	eventually(t, 20*time.Second, "session reset", func() error {
		if st := h.status("tor"); st.Established || st.LastError != want {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	if lines := h.log.matching("BGP session not up"); len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("log lines about the failure (want one): %q", lines)
	}
}

// TestDynamicASN checks that dynamic ASNs establish with a router of the
// right kind: internal with our own ASN, external with another.
func TestDynamicASN(t *testing.T) {
	for _, tc := range []struct {
		kind string
		asn  uint32
		want string
	}{
		{DynamicASNInternal, nodeASN, "nh 127.0.0.2 lp 300"},
		{DynamicASNExternal, routerASN, "nh 127.0.0.2"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			r := startRouter(t, "127.0.0.1", tc.asn)
			r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
			h := startSpeaker(t)
			s := r.session("tor", "127.0.0.2", func(s *Session) { s.PeerASN, s.DynamicASN = 0, tc.kind })
			h.set(desired(s).with("tor", path("198.51.100.1/32", localPref(300))))
			wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": tc.want})
			h.waitEstablished("tor")
		})
	}
}
