package bgp

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// A session restricted to some families (BGPPeer addressFamilies,
// dualStackAddressFamily: false or disableMP) offers only them: against a
// router that enables both, only they are negotiated, only their routes
// arrive, and a route of another family is refused by Set, not sent.
func TestRestrictedFamilies(t *testing.T) {
	tests := []struct {
		name   string
		fams   []Family
		want   []string // prefixes the router receives
		refuse string   // a path Set must refuse
	}{
		{"both", []Family{IPv4Unicast, IPv6Unicast}, []string{"198.51.100.1/32", "2001:db8::1/128"}, ""},
		{"IPv4 only", []Family{IPv4Unicast}, []string{"198.51.100.1/32"}, "2001:db8::1/128"},
		{"IPv6 only over an IPv4 session", []Family{IPv6Unicast}, []string{"2001:db8::1/128"}, "198.51.100.1/32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, "127.0.0.1", routerASN)
			r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, families: []Family{IPv4Unicast, IPv6Unicast}})
			h := startSpeaker(t)
			s := r.session("tor", "127.0.0.2", withFamilies(tt.fams...), withNextHops("", "2001:db8::2"))
			var paths []Path
			for _, p := range tt.want {
				paths = append(paths, path(p))
			}
			h.set(desired(s).with("tor", paths...))
			h.waitEstablished("tor")
			if got := h.status("tor").Families; !slices.Equal(got, tt.fams) {
				t.Errorf("negotiated %v, want %v", got, tt.fams)
			}
			eventually(t, 10*time.Second, "the router's routes", func() error {
				got := receivedPrefixes(r)
				if got != fmt.Sprint(mustPrefixes(tt.want)) {
					return fmt.Errorf("router has %v, want %v", got, tt.want)
				}
				return nil
			})
			if tt.refuse == "" {
				return
			}
			err := h.trySet(desired(s).with("tor", append(paths, path(tt.refuse))...))
			if !errors.Is(err, ErrInvalidPath) {
				t.Errorf("Set with %s on a session without its family: %v, want ErrInvalidPath", tt.refuse, err)
			}
			// What went before still holds, and nothing of the refused
			// family arrived (a positive signal first: the session is
			// still up with its routes).
			h.waitEstablished("tor")
			if got := receivedPrefixes(r); got != fmt.Sprint(mustPrefixes(tt.want)) {
				t.Errorf("after the refused path the router has %v, want %v", got, tt.want)
			}
		})
	}
}

// receivedPrefixes lists, sorted, the prefixes the router has from the speaker.
func receivedPrefixes(r *router) string {
	got := slices.Collect(maps.Keys(r.paths("127.0.0.2")))
	slices.SortFunc(got, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return fmt.Sprint(got)
}

func mustPrefixes(ss []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}
