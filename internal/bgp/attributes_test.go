package bgp

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// wantPaths waits until the router has exactly want from the neighbour at
// addr, attributes included.
func wantPaths(t *testing.T, r *router, addr string, want map[string]string) {
	t.Helper()
	eventually(t, 20*time.Second, fmt.Sprintf("router %s: paths from %s", r.addr, addr), func() error {
		got := map[string]string{}
		for pfx, p := range r.paths(addr) {
			got[pfx.String()] = p.String()
		}
		if !maps.Equal(got, want) {
			return fmt.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
		}
		return nil
	})
}

func dump(m map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		lines = append(lines, "  "+k+": "+m[k])
	}
	return strings.Join(lines, "\n")
}

// TestAttributesReachTheRouter checks every attribute a path carries, as
// a real GoBGP router receives it: communities (standard and large),
// LOCAL_PREF on iBGP only, and the next hop of each family, including
// IPv6 over an IPv4 session (MP-BGP) and both families over an IPv6
// session.
func TestAttributesReachTheRouter(t *testing.T) {
	attrs := []func(*Path){
		comms(community(65535, 65281), community(64512, 100)),
		large(LargeCommunity{64512, 7, 8}, LargeCommunity{64512, 1, 2}),
		localPref(250),
	}
	tests := []struct {
		name     string
		router   string // the router's address and ASN
		asn      uint32
		src      string
		opts     []func(*Session)
		paths    []Path
		families []Family
		want     map[string]string
	}{{
		name:   "eBGP over IPv4: no LOCAL_PREF; IPv6 next hop through MP-BGP",
		router: "127.0.0.1", asn: routerASN, src: "127.0.0.2",
		opts:     []func(*Session){withNextHops("", "2001:db8::2")},
		families: []Family{IPv4Unicast, IPv6Unicast},
		paths:    []Path{path("198.51.100.10/32", attrs...), path("2001:db8:1::10/128", attrs...), path("203.0.113.0/28")},
		want: map[string]string{
			"198.51.100.10/32":   "nh 127.0.0.2 comm 64512:100,65535:65281 large [{64512 1 2} {64512 7 8}]",
			"2001:db8:1::10/128": "nh 2001:db8::2 comm 64512:100,65535:65281 large [{64512 1 2} {64512 7 8}]",
			"203.0.113.0/28":     "nh 127.0.0.2",
		},
	}, {
		name:   "iBGP over IPv4: LOCAL_PREF kept; explicit IPv4 next hop",
		router: "127.0.0.1", asn: nodeASN, src: "127.0.0.2",
		opts:     []func(*Session){withNextHops("198.51.100.2", "2001:db8::2")},
		families: []Family{IPv4Unicast, IPv6Unicast},
		paths:    []Path{path("198.51.100.10/32", attrs...), path("2001:db8:1::10/128", localPref(50))},
		want: map[string]string{
			"198.51.100.10/32":   "nh 198.51.100.2 comm 64512:100,65535:65281 large [{64512 1 2} {64512 7 8}] lp 250",
			"2001:db8:1::10/128": "nh 2001:db8::2 lp 50",
		},
	}, {
		name:   "eBGP over IPv6 on ::1: the session's address as IPv6 next hop; IPv4 over IPv6",
		router: "::1", asn: routerASN, src: "::1",
		opts:     []func(*Session){withNextHops("198.51.100.2", "")},
		families: []Family{IPv4Unicast, IPv6Unicast},
		paths:    []Path{path("2001:db8:1::20/128", comms(community(64512, 200))), path("198.51.100.20/32")},
		want: map[string]string{
			"2001:db8:1::20/128": "nh ::1 comm 64512:200",
			"198.51.100.20/32":   "nh 198.51.100.2",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startRouter(t, tc.router, tc.asn)
			r.addNeighbor(neighbor{addr: tc.src, asn: nodeASN, families: tc.families})
			h := startSpeaker(t)
			s := r.session("tor", tc.src, append([]func(*Session){withASNs(nodeASN, tc.asn)}, tc.opts...)...)
			h.set(desired(s).with("tor", tc.paths...))
			wantPaths(t, r, tc.src, tc.want)
		})
	}
}

// TestStatusAndMetrics checks what the speaker reports about an
// established session, against a router that carries IPv4 only.
func TestStatusAndMetrics(t *testing.T) {
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	h := startSpeaker(t)
	s := r.session("tor", "127.0.0.2", withNextHops("", "2001:db8::2"))
	h.set(desired(s).with("tor", path("198.51.100.10/32"), path("198.51.100.11/32"), path("2001:db8:1::10/128")))
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.10/32": "nh 127.0.0.2", "198.51.100.11/32": "nh 127.0.0.2"})
	h.waitEstablished("tor")

	got := h.status("tor")
	want := PeerStatus{
		Name: "tor", PeerAddress: netip.MustParseAddr("127.0.0.1"), State: "established", Established: true,
		Since: h.clock.Now(), PrefixesSent: 2, Families: []Family{IPv4Unicast},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("status:\ngot  %+v\nwant %+v", got, want)
	}
	if v := gaugeValue(t, h.metrics.SessionUp, "tor"); v != 1 {
		t.Errorf("session_up = %v, want 1", v)
	}
	if v := gaugeValue(t, h.metrics.PrefixesAdvertised, "tor"); v != 2 {
		t.Errorf("prefixes_advertised = %v, want 2", v)
	}
	if v := counterValue(t, h.metrics.UpdatesSent, "tor"); v < 1 {
		t.Errorf("updates_sent_total = %v, want at least 1", v)
	}
	if got := h.log.matching("BGP session established", `"peer"="tor"`); len(got) != 1 {
		t.Errorf("log lines for the established session: %q, want one", got)
	}

	h.set(Desired{})
	if st := h.sp.Status(); len(st) != 0 {
		t.Errorf("status after every session is gone: %+v", st)
	}
	if n := seriesCount(t, h.metrics); n != 0 {
		t.Errorf("%d metric series left after every session is gone", n)
	}
}
