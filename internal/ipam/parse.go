package ipam

import (
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// ParseRange parses one entry of an IPAddressPool's addresses. It accepts
// what the CRD's validation rules accept, with one exception: the CRD
// cannot check the order of an IPv6 range, which ParseRange refuses, so that
// the pool is marked not Ready (api/v1beta1 runs both on the same strings):
//
//   - a CIDR, written without spaces: "198.51.100.0/24", "2001:db8::/64".
//     Host bits are masked, as MetalLB's net.ParseCIDR does, so that a pool
//     copied from MetalLB keeps its meaning: "198.51.100.7/24" is
//     198.51.100.0/24;
//   - an inclusive range "a-b" of two addresses of one family, the start not
//     after the end. Spaces around either address are ignored, as MetalLB
//     ignores them.
//
// Zones and IPv4-mapped IPv6 addresses (::ffff:198.51.100.1) are rejected,
// as the apiserver's CEL ip() and cidr() reject them. Errors wrap
// ErrInvalidRange.
func ParseRange(s string) (netipx.IPRange, error) {
	if from, to, ok := strings.Cut(s, "-"); ok {
		lo, err := parseAddr(strings.TrimSpace(from))
		if err != nil {
			return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: start: %v", s, ErrInvalidRange, err)
		}
		hi, err := parseAddr(strings.TrimSpace(to))
		if err != nil {
			return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: end: %v", s, ErrInvalidRange, err)
		}
		if lo.Is4() != hi.Is4() {
			return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: %s and %s are of different families", s, ErrInvalidRange, lo, hi)
		}
		if hi.Less(lo) {
			return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: start %s is after end %s", s, ErrInvalidRange, lo, hi)
		}
		return netipx.IPRangeFrom(lo, hi), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: want a CIDR or a range a-b: %v", s, ErrInvalidRange, err)
	}
	if p.Addr().Is4In6() {
		return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: IPv4-mapped IPv6 prefixes are not allowed", s, ErrInvalidRange)
	}
	return netipx.RangeOfPrefix(p.Masked()), nil
}

// parseAddr parses one end of a range.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, err
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("address %s has a zone", a)
	case a.Is4In6():
		return netip.Addr{}, fmt.Errorf("address %s is an IPv4-mapped IPv6 address", a)
	}
	return a, nil
}

// MustParseRange is ParseRange for tests and constants; it panics on error.
func MustParseRange(s string) netipx.IPRange {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// SubnetRouterAnycast returns the Subnet-Router anycast address of the IPv6
// CIDR s (its first address, RFC 4291 §2.6.1), which routers answer and a
// Service must not take; false for IPv4, for an a-b range, and for a /127
// or /128, where RFC 6164 lets the first address be used.
func SubnetRouterAnycast(s string) (netip.Addr, bool) {
	p, err := netip.ParsePrefix(s) // an a-b range is not a prefix
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() > 126 {
		return netip.Addr{}, false
	}
	return p.Masked().Addr(), true
}
