package liveness

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func aps(ss ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		out = append(out, netip.MustParseAddrPort(s))
	}
	return out
}

func TestNormalizePeers(t *testing.T) {
	self := netip.MustParseAddrPort("198.51.100.1:7946")
	got, err := normalizePeers(aps(
		"198.51.100.3:7946",
		"198.51.100.1:7946",          // self
		"[::ffff:198.51.100.2]:7946", // mapped
		"198.51.100.2:7946",          // the same, unmapped
		"[2001:db8::1]:7946",
		"198.51.100.1:7000", // same host, another port: another speaker
	), self)
	if err != nil {
		t.Fatal(err)
	}
	want := aps("198.51.100.1:7000", "198.51.100.2:7946", "198.51.100.3:7946", "[2001:db8::1]:7946")
	if !slices.Equal(got, want) {
		t.Errorf("normalizePeers = %v, want %v", got, want)
	}

	for _, bad := range []netip.AddrPort{{}, netip.MustParseAddrPort("198.51.100.2:0"), netip.MustParseAddrPort("0.0.0.0:7946"), netip.MustParseAddrPort("[::]:7946")} {
		if _, err := normalizePeers([]netip.AddrPort{bad}, self); !errors.Is(err, ErrInvalidPeer) {
			t.Errorf("normalizePeers(%v): %v, want ErrInvalidPeer", bad, err)
		}
	}
}

func TestMissingPeers(t *testing.T) {
	peers := aps("198.51.100.2:7946", "198.51.100.3:7946", "198.51.100.4:7946")
	members := []Member{
		{Name: "a", Addr: netip.MustParseAddrPort("198.51.100.1:7946")},
		{Name: "b", Addr: netip.MustParseAddrPort("198.51.100.2:7946")},
		// c moved to another port: its old address is still to be joined.
		{Name: "c", Addr: netip.MustParseAddrPort("198.51.100.3:7000")},
	}
	want := aps("198.51.100.3:7946", "198.51.100.4:7946")
	if got := missingPeers(peers, members); !slices.Equal(got, want) {
		t.Errorf("missingPeers = %v, want %v", got, want)
	}
	if got := missingPeers(nil, members); len(got) != 0 {
		t.Errorf("missingPeers without peers = %v", got)
	}
}
