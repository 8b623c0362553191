package bgp

import (
	"net/netip"
	"slices"
	"strings"
)

// applied is the adapter's view of one session as GoBGP has it now.
type applied struct {
	session Session
	paths   map[netip.Prefix]Path
}

// change is what turns the applied state into the target. It is applied
// in order: close, then open, then withdraw and announce.
type change struct {
	// close lists the sessions to close: gone, or reconfigured. Sorted.
	close []string
	// open lists the sessions to open: new, or reconfigured. Sorted by
	// name.
	open []Session
	// withdraw and announce list, by session, the prefixes to withdraw and
	// the paths to advertise (new, or with changed attributes: a re-add
	// replaces the old path). Sessions in open get their full set here.
	// Sorted.
	withdraw map[string][]netip.Prefix
	announce map[string][]Path
}

func (c change) empty() bool {
	return len(c.close) == 0 && len(c.open) == 0 && len(c.withdraw) == 0 && len(c.announce) == 0
}

// diff computes the change from cur to want. Any difference in a
// session's configuration re-creates it: GoBGP cannot change a password,
// timers, ASNs or the router ID of an established session without
// resetting it anyway. Sessions in want.untouched are left as they are.
func diff(cur map[string]applied, want target) change {
	c := change{withdraw: map[string][]netip.Prefix{}, announce: map[string][]Path{}}
	for name, a := range cur {
		if want.untouched[name] {
			continue
		}
		if s, ok := want.sessions[name]; !ok || !sameSession(s, a.session) {
			c.close = append(c.close, name)
		}
	}
	slices.Sort(c.close)
	for name, s := range want.sessions {
		a, ok := cur[name]
		if !ok || !sameSession(s, a.session) {
			c.open = append(c.open, s)
			if ps := sortedPaths(want.paths[name]); len(ps) > 0 {
				c.announce[name] = ps
			}
			continue
		}
		var ann []Path
		for pfx, p := range want.paths[name] {
			if old, ok := a.paths[pfx]; !ok || !samePath(old, p) {
				ann = append(ann, p)
			}
		}
		var wd []netip.Prefix
		for pfx := range a.paths {
			if _, ok := want.paths[name][pfx]; !ok {
				wd = append(wd, pfx)
			}
		}
		if len(ann) > 0 {
			slices.SortFunc(ann, comparePaths)
			c.announce[name] = ann
		}
		if len(wd) > 0 {
			slices.SortFunc(wd, comparePrefixes)
			c.withdraw[name] = wd
		}
	}
	slices.SortFunc(c.open, func(a, b Session) int { return strings.Compare(a.Name, b.Name) })
	return c
}

func sortedPaths(m map[netip.Prefix]Path) []Path {
	ps := make([]Path, 0, len(m))
	for _, p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, comparePaths)
	return ps
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// holdPending is want for a Desired whose paths are pending (see
// Desired.PathsPending): an open session, unchanged, keeps the paths it
// has; a new or reconfigured session opens without paths, unless it has
// graceful restart, in which case it is left as it is until its paths
// are known.
func holdPending(want target, cur map[string]applied) target {
	for name, s := range want.sessions {
		a, open := cur[name]
		switch {
		case open && sameSession(s, a.session):
			want.paths[name] = a.paths
		case s.GracefulRestart:
			delete(want.sessions, name)
			delete(want.paths, name)
			want.untouched[name] = true
		default:
			want.paths[name] = map[netip.Prefix]Path{}
		}
	}
	return want
}
