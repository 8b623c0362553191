package layer2

import (
	"errors"
	"maps"
	"net/netip"
	"slices"
	"testing"
)

func TestByListenerGroupsByInterfaceAndFamily(t *testing.T) {
	want, errs := byListener(append(pairs(
		vip4, "eth0", vip4b, "eth0", vip6, "eth0", vip4, "eth1", vip4, "eth0", // a duplicate
	), Announcement{IP: netip.MustParseAddr("::ffff:198.51.100.10"), Interface: "eth0"}))
	if len(errs) != 1 || !errors.Is(errs[0], ErrInvalidAnnouncement) {
		t.Fatalf("errors %v, want one ErrInvalidAnnouncement", errs)
	}
	got := map[key][]netip.Addr{}
	for k, s := range want {
		got[k] = s.sorted()
	}
	exp := map[key][]netip.Addr{
		{"eth0", protoARP}: {vip4, vip4b},
		{"eth0", protoNDP}: {vip6},
		{"eth1", protoARP}: {vip4},
	}
	if !maps.EqualFunc(got, exp, slices.Equal) {
		t.Fatalf("grouped %v, want %v", got, exp)
	}
}

func TestNewPairs(t *testing.T) {
	before := pairs(vip4, "eth0", vip4b, "eth0", vip6, "eth0")
	after := pairs(vip4, "eth0", vip4, "eth1", vip6, "eth0", vip6b, "eth0")
	got := newPairs(before, after)
	want := pairs(vip4, "eth1", vip6b, "eth0")
	if !slices.Equal(got, want) {
		t.Fatalf("newPairs = %v, want %v", got, want)
	}
	if got := newPairs(after, after); len(got) != 0 {
		t.Fatalf("newPairs of a set with itself = %v, want none", got)
	}
}

// TestGroupChangesCountsSharedGroups checks the reference counting of
// solicited-node groups: vip6 and vip6c share a group, which is joined once
// and left only when neither is owned.
func TestGroupChangesCountsSharedGroups(t *testing.T) {
	shared, own := solicitedNode(vip6), solicitedNode(vip6b)
	if solicitedNode(vip6c) != shared {
		t.Fatalf("test addresses %s and %s should share a group", vip6, vip6c)
	}
	for _, tc := range []struct {
		name        string
		joined      addrSet
		owned       addrSet
		join, leave []netip.Addr
	}{
		{"first address joins", set(), set(vip6), []netip.Addr{shared}, nil},
		{"second address of a group joins nothing", set(shared), set(vip6, vip6c), nil, nil},
		{"one of two left keeps the group", set(shared), set(vip6c), nil, nil},
		{"last one left leaves", set(shared), set(), nil, []netip.Addr{shared}},
		{"swap", set(shared), set(vip6b), []netip.Addr{own}, []netip.Addr{shared}},
		{"a failed leave is retried", set(shared, own), set(vip6b), nil, []netip.Addr{shared}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			join, leave := groupChanges(tc.joined, tc.owned)
			if !slices.Equal(join, tc.join) || !slices.Equal(leave, tc.leave) {
				t.Fatalf("join %v leave %v, want join %v leave %v", join, leave, tc.join, tc.leave)
			}
		})
	}
}

func TestSolicitedNode(t *testing.T) {
	if got, want := solicitedNode(netip.MustParseAddr("2001:db8::1:2:3")), netip.MustParseAddr("ff02::1:ff02:3"); got != want {
		t.Fatalf("solicitedNode = %s, want %s", got, want)
	}
}
