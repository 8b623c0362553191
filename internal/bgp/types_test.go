package bgp

import (
	"net/netip"
	"testing"
)

func netip4(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestFamilyString(t *testing.T) {
	for f, want := range map[Family]string{IPv4Unicast: "ipv4-unicast", IPv6Unicast: "ipv6-unicast", 0: "Family(0)"} {
		if got := f.String(); got != want {
			t.Errorf("Family(%d) = %q, want %q", int(f), got, want)
		}
	}
}

func TestSessionIBGP(t *testing.T) {
	for _, tc := range []struct {
		s    Session
		want bool
	}{
		{Session{MyASN: 1, PeerASN: 1}, true},
		{Session{MyASN: 1, PeerASN: 2}, false},
		{Session{MyASN: 1, DynamicASN: DynamicASNInternal}, true},
		{Session{MyASN: 1, DynamicASN: DynamicASNExternal}, false},
	} {
		if got := tc.s.ibgp(); got != tc.want {
			t.Errorf("%+v: ibgp %v, want %v", tc.s, got, tc.want)
		}
	}
}
