package plan

import (
	"net/netip"
	"slices"
)

// Limit is what a session with a MaxPrefixes limit would advertise, and
// may.
type Limit struct {
	Max, Wanted int
}

// Withheld is how many routes the limit keeps from the session.
func (l Limit) Withheld() int { return max(0, l.Wanted-l.Max) }

// WarnAtPercent is the share of a session's limit from which the speaker
// warns, as routers warn before a maximum-prefix limit is hit.
const WarnAtPercent = 80

// Near reports whether the session wants at least WarnAtPercent of its
// limit; the zero Limit, no limit, never is.
func (l Limit) Near() bool { return l.Max > 0 && l.Wanted*100 >= WarnAtPercent*l.Max }

// limit keeps, on each session with a MaxPrefixes, its first MaxPrefixes
// routes in address order and withholds the rest; it records the limits
// in b.Limits and takes the withheld routes' sessions out of Advertised.
// Address order is the same on every node, so the nodes withhold the same
// routes and the router's ECMP sets stay whole.
func (b *BGP) limit() {
	withheld := map[string]map[netip.Prefix]bool{}
	for _, s := range b.Sessions {
		if s.MaxPrefixes <= 0 {
			continue
		}
		if b.Limits == nil {
			b.Limits = map[string]Limit{}
		}
		paths := b.Paths[s.Name]
		b.Limits[s.Name] = Limit{Max: s.MaxPrefixes, Wanted: len(paths)}
		if len(paths) <= s.MaxPrefixes {
			continue
		}
		withheld[s.Name] = map[netip.Prefix]bool{}
		for _, p := range paths[s.MaxPrefixes:] {
			withheld[s.Name][p.Prefix] = true
		}
		b.Paths[s.Name] = paths[:s.MaxPrefixes:s.MaxPrefixes]
	}
	if len(withheld) == 0 {
		return
	}
	out := b.Advertised[:0]
	for _, a := range b.Advertised {
		a.Sessions = slices.DeleteFunc(slices.Clone(a.Sessions), func(s string) bool { return withheld[s][a.Prefix] })
		if len(a.Sessions) > 0 {
			out = append(out, a)
		}
	}
	b.Advertised = out
}
