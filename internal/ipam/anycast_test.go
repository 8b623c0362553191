package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

func TestSubnetRouterAnycast(t *testing.T) {
	tests := []struct {
		cidr string
		want string // "" when the CIDR has none to avoid
	}{
		{"2001:db8::/64", "2001:db8::"},
		{"2001:db8:0:1:8000::/65", "2001:db8:0:1:8000::"},
		{"2001:db8::5/64", "2001:db8::"}, // not masked in the pool: still the subnet's
		{"2001:db8::/120", "2001:db8::"},
		{"2001:db8::/126", "2001:db8::"},
		{"2001:db8::/127", ""}, // RFC 6164 point-to-point
		{"2001:db8::1/128", ""},
		{"2001:db8::-2001:db8::ff", ""}, // a range lists its addresses itself
		{"198.51.100.0/24", ""},
		{"::ffff:198.51.100.0/120", ""},
		{"not a cidr", ""},
	}
	for _, tt := range tests {
		got, ok := SubnetRouterAnycast(tt.cidr)
		if (tt.want == "") == ok || ok && got.String() != tt.want {
			t.Errorf("SubnetRouterAnycast(%q) = %v, %v; want %q", tt.cidr, got, ok, tt.want)
		}
	}
}

// TestExcludedNeverHandedOut: a /126 with its anycast address excluded
// gives out its three other addresses, counts three, and is then
// exhausted; asking for the excluded address by name fails.
func TestExcludedNeverHandedOut(t *testing.T) {
	p := newPool("p", "2001:db8::/126")
	p.Excluded = []netip.Addr{netip.MustParseAddr("2001:db8::")}
	a := newAlloc(t, p)
	if st, _ := a.PoolStats("p"); st.IPv6.Size.String() != "3" {
		t.Errorf("size = %v, want 3", st.IPv6.Size)
	}
	for i := range 3 {
		got := mustAllocate(t, a, mkReq(fmt.Sprintf("d/s%d", i), families(SingleStack, IPv6)))
		if got.IPs[0] == p.Excluded[0] {
			t.Fatalf("allocated the excluded %s", got.IPs[0])
		}
	}
	if got, err := a.Allocate(mkReq("d/more", families(SingleStack, IPv6))); !errors.Is(err, ErrPoolExhausted) {
		t.Errorf("4th Allocate = %v, %v; want exhausted", got, err)
	}
	b := newAlloc(t, p)
	if got, err := b.Allocate(mkReq("d/asks", wantIPs("2001:db8::"))); err == nil {
		t.Errorf("Allocate of the excluded address by IP = %v, want refused", got)
	}
}

// TestExcludedAlreadyHeldIsKept: a Service that held the anycast address
// before the exclusion keeps it, as the pool's orphan.
func TestExcludedAlreadyHeldIsKept(t *testing.T) {
	p := newPool("p", "2001:db8::/64")
	p.Excluded = []netip.Addr{netip.MustParseAddr("2001:db8::")}
	a := newAlloc(t, p)
	r := mkReq("d/old", inPool("p"), families(SingleStack, IPv6))
	if pool, err := a.Assign(r, addrs("2001:db8::")); err != nil || pool != "p" {
		t.Fatalf("Assign = %q, %v", pool, err)
	}
	if got := mustAllocate(t, a, r); got.IPs[0].String() != "2001:db8::" {
		t.Errorf("Allocate = %v, want 2001:db8:: kept", got)
	}
	if _, orphans := a.Users("p"); orphans != 1 {
		t.Errorf("orphans = %d, want 1", orphans)
	}
}
