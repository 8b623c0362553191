package ipam

import (
	"fmt"
	"net/netip"
	"strings"

	"go4.org/netipx"
)

// ParseRange parses a CIDR ("198.51.100.0/24", "2001:db8::/64") or an
// inclusive range "a-b" ("198.51.100.10-198.51.100.20"; spaces around '-'
// are tolerated). A CIDR with host bits set is masked, as MetalLB does
// ("198.51.100.7/24" is 198.51.100.0/24). Both bounds of a range must be of
// the same family: an IPv4-mapped IPv6 address stays IPv6, so
// "::ffff:192.0.2.1-192.0.2.9" is rejected rather than half-converted.
// Zones are rejected. Errors wrap ErrInvalidRange.
func ParseRange(s string) (netipx.IPRange, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: empty", s, ErrInvalidRange)
	}
	if strings.Contains(in, "/") {
		p, err := netip.ParsePrefix(in)
		if err != nil {
			return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: %v", s, ErrInvalidRange, err)
		}
		return netipx.RangeOfPrefix(p.Masked()), nil
	}
	from, to, ok := strings.Cut(in, "-")
	if !ok {
		return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: want a CIDR or a range a-b", s, ErrInvalidRange)
	}
	lo, err := parseBound(from)
	if err != nil {
		return netipx.IPRange{}, fmt.Errorf("parse range %q: %w: start: %v", s, ErrInvalidRange, err)
	}
	hi, err := parseBound(to)
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

func parseBound(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, err
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %s has a zone", a)
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
