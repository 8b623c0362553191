package plan

import (
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/heraldlb/herald/internal/config"
)

// allowance is which interfaces a node may answer on for an IP: the union
// of the interfaces of the L2Advertisements that select it, or any interface
// when one of them names none.
type allowance struct {
	any   bool
	names map[string]bool
}

func (a *allowance) add(ifaces []string) {
	if len(ifaces) == 0 {
		a.any = true
		return
	}
	if a.names == nil {
		a.names = map[string]bool{}
	}
	for _, n := range ifaces {
		a.names[n] = true
	}
}

func (a allowance) allows(name string) bool { return a.any || a.names[name] }

// interfacesFor returns the links among links on which a node answers for
// ip, and whether the fallback to every link applies (then the caller, who
// knows the node's full list of links, fills in the names; and the user gets
// a warning). The rules, in order:
//   - the allowed links that have an address in a prefix containing ip;
//   - else, when the advertisements name interfaces, those of them the node
//     has up;
//   - else every up, broadcast, non-loopback link: the fallback.
func interfacesFor(ip netip.Addr, links []Link, allow allowance) (names []string, fallback bool) {
	var allowed []string
	for _, l := range links {
		if !allow.allows(l.Name) {
			continue
		}
		allowed = append(allowed, l.Name)
		if slices.ContainsFunc(l.Prefixes, func(p netip.Prefix) bool { return onLink(p, ip) }) {
			names = append(names, l.Name)
		}
	}
	switch {
	case len(names) > 0:
	case !allow.any:
		names = allowed
	default:
		return nil, true
	}
	slices.Sort(names)
	return slices.Compact(names), false
}

// onLink reports whether ip is in the subnet of an interface address. A
// host-length prefix (/32, /128) is an address, not a subnet.
func onLink(p netip.Prefix, ip netip.Addr) bool {
	return p.Bits() < ip.BitLen() && p.Masked().Contains(ip)
}

// Gossip returns what a node tells the other speakers about its links: the
// links that any L2Advertisement names, and the links with an address in a
// subnet that overlaps a pool, with only those addresses. The rest can never
// decide whether the node is a candidate, and memberlist metadata is small.
// Every speaker judges this node from exactly this list, and so does the node
// itself, so that all of them agree on the candidates.
func Gossip(links []Link, cfg config.Announce) []Link {
	named := map[string]bool{}
	for _, a := range cfg.L2 {
		for _, n := range a.Interfaces {
			named[n] = true
		}
	}
	var out []Link
	for _, l := range links {
		var keep []netip.Prefix
		for _, p := range l.Prefixes {
			if p.Bits() < p.Addr().BitLen() && overlapsPool(p.Masked(), cfg) {
				keep = append(keep, p)
			}
		}
		if len(keep) > 0 || named[l.Name] {
			out = append(out, Link{Name: l.Name, Prefixes: keep})
		}
	}
	return out
}

func overlapsPool(p netip.Prefix, cfg config.Announce) bool {
	for _, pool := range cfg.Pools {
		for _, r := range pool.Ranges {
			if r.Overlaps(netipx.RangeOfPrefix(p)) {
				return true
			}
		}
	}
	return false
}
