package bgp

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// grCapability is the graceful restart capability the router received
// from addr: its families, and the Restart State and Forwarding State
// bits.
func (r *router) grCapability(addr string) string {
	r.t.Helper()
	caps, err := apiutil.UnmarshalCapabilities(r.peerState(addr).GetState().GetRemoteCap())
	if err != nil {
		r.t.Fatalf("decode capabilities: %v", err)
	}
	for _, c := range caps {
		gr, ok := c.(*bgp.CapGracefulRestart)
		if !ok {
			continue
		}
		var fams []string
		for _, tu := range gr.Tuples {
			f, _ := familyFromRF(bgp.AfiSafiToRouteFamily(tu.AFI, tu.SAFI))
			fams = append(fams, fmt.Sprintf("%s forwarding %v", f, tu.Flags&0x80 != 0))
		}
		return fmt.Sprintf("restarting %v %v", gr.Flags&0x08 != 0, fams)
	}
	return "none"
}

// TestGracefulRestartDoesNotStall is trap 1 of kube-router #1323 and
// cilium #30367: with graceful restart on, routes must reach a router
// that carries only IPv4, or that has no graceful restart at all, at
// once; not after a deferral timer. The capability must name exactly the
// session's families. And a NOTIFICATION from Run's end must still drop
// the routes at once, since graceful restart is for a speaker that dies.
func TestGracefulRestartDoesNotStall(t *testing.T) {
	tests := []struct {
		name     string
		router   neighbor
		families []Family // the session's
		wantGR   string   // the capability the router receives
		wantNeg  []Family
		want     map[string]string
	}{{
		name:     "router carries only IPv4, the session both",
		router:   neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast}, gr: true},
		families: []Family{IPv4Unicast, IPv6Unicast},
		wantGR:   "restarting true [ipv4-unicast forwarding true ipv6-unicast forwarding true]",
		wantNeg:  []Family{IPv4Unicast},
		want:     map[string]string{"198.51.100.1/32": "nh 127.0.0.2"},
	}, {
		name:     "router without graceful restart",
		router:   neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}},
		families: []Family{IPv4Unicast, IPv6Unicast},
		wantGR:   "restarting true [ipv4-unicast forwarding true ipv6-unicast forwarding true]",
		wantNeg:  []Family{IPv4Unicast, IPv6Unicast},
		want:     map[string]string{"198.51.100.1/32": "nh 127.0.0.2", "2001:db8:1::1/128": "nh 2001:db8::2"},
	}, {
		name:     "router carries both, the session only IPv4",
		router:   neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}, gr: true},
		families: []Family{IPv4Unicast},
		wantGR:   "restarting true [ipv4-unicast forwarding true]",
		wantNeg:  []Family{IPv4Unicast},
		want:     map[string]string{"198.51.100.1/32": "nh 127.0.0.2"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRouter(t, "127.0.0.1", routerASN)
			r.addNeighbor(tc.router)
			h := startSpeaker(t)
			s := r.session("tor", "127.0.0.2", withGR(), withFamilies(tc.families...), withNextHops("", "2001:db8::2"))
			paths := []Path{path("198.51.100.1/32")}
			if slices.Contains(tc.families, IPv6Unicast) {
				paths = append(paths, path("2001:db8:1::1/128"))
			}
			start := time.Now()
			h.set(desired(s).with("tor", paths...))
			wantPaths(t, r, "127.0.0.2", tc.want)
			took := time.Since(start)
			t.Logf("routes at the router %s after Set (the deferral timer is %ds)", took.Round(time.Millisecond), grDeferralTime)
			// Connecting takes 1 to 2s (GoBGP's first connect delay); a
			// stall would take the whole deferral time.
			if limit := grDeferralTime * time.Second / 2; took > limit {
				t.Errorf("routes took %s, more than %s: waiting for a deferral timer?", took, limit)
			}
			if got := r.grCapability("127.0.0.2"); got != tc.wantGR {
				t.Errorf("graceful restart capability\ngot  %s\nwant %s", got, tc.wantGR)
			}
			h.waitEstablished("tor")
			if got := h.status("tor").Families; !slices.Equal(got, tc.wantNeg) {
				t.Errorf("negotiated families %v, want %v", got, tc.wantNeg)
			}

			stop := time.Now()
			if err := h.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			eventually(t, 5*time.Second, "routes dropped after Run's NOTIFICATION", func() error {
				if n := len(r.paths("127.0.0.2")); n != 0 {
					return fmt.Errorf("%d paths kept", n)
				}
				return nil
			})
			t.Logf("routes dropped %s after Run ended (the graceful restart time is 90s)", time.Since(stop).Round(time.Millisecond))
		})
	}
}
