package layer2

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestCheckPair(t *testing.T) {
	for _, tc := range []struct {
		ip    string
		iface string
		ok    bool
	}{
		{"198.51.100.10", "eth0", true},
		{"2001:db8::10", "eth0", true},
		{"198.51.100.10", "", false},
		{"", "eth0", false},
		{"fe80::1%eth0", "eth0", false},
		{"::ffff:198.51.100.10", "eth0", false},
		{"0.0.0.0", "eth0", false},
		{"::", "eth0", false},
		{"127.0.0.1", "eth0", false},
		{"::1", "eth0", false},
		{"224.0.0.1", "eth0", false},
		{"ff02::1", "eth0", false},
	} {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		err := checkPair(ip, tc.iface)
		if tc.ok && err != nil {
			t.Errorf("checkPair(%q, %q) = %v, want nil", tc.ip, tc.iface, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidAnnouncement) {
			t.Errorf("checkPair(%q, %q) = %v, want ErrInvalidAnnouncement", tc.ip, tc.iface, err)
		}
	}
}

func TestAnnouncementCompareOrdersByIPThenInterface(t *testing.T) {
	got := pairs(vip6, "eth0", vip4b, "eth0", vip4, "eth1", vip4, "eth0")
	slices.SortFunc(got, Announcement.Compare)
	want := pairs(vip4, "eth0", vip4, "eth1", vip4b, "eth0", vip6, "eth0")
	if !slices.Equal(got, want) {
		t.Fatalf("sorted %v, want %v", got, want)
	}
	if s := want[0].String(); s != "198.51.100.10 on eth0" {
		t.Fatalf("String() = %q", s)
	}
}

func TestProtocolOf(t *testing.T) {
	if p := protocolOf(vip4); p != protoARP || p.String() != "arp" {
		t.Errorf("protocolOf(%s) = %s", vip4, p)
	}
	if p := protocolOf(vip6); p != protoNDP || p.String() != "ndp" {
		t.Errorf("protocolOf(%s) = %s", vip6, p)
	}
}
