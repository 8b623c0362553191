package ipam

import (
	"net/netip"

	"github.com/google/btree"
)

// interval is an inclusive run of free addresses of one family.
type interval struct{ lo, hi netip.Addr }

// freeSet is the set of free addresses of one family in one pool, as a
// B-tree of disjoint intervals ordered by start. With avoidBuggy, addresses
// ending in .0 or .255 may remain inside intervals but are never returned by
// lowest; they are trimmed lazily (at most two in a row exist).
type freeSet struct {
	t          *btree.BTreeG[interval]
	avoidBuggy bool
}

func newFreeSet(avoidBuggy bool) *freeSet {
	return &freeSet{
		t:          btree.NewG(16, func(a, b interval) bool { return a.lo.Less(b.lo) }),
		avoidBuggy: avoidBuggy,
	}
}

// insert adds a run known to be disjoint from and not adjacent to the set.
func (f *freeSet) insert(lo, hi netip.Addr) { f.t.ReplaceOrInsert(interval{lo, hi}) }

// containing returns the interval holding ip.
func (f *freeSet) containing(ip netip.Addr) (interval, bool) {
	var found interval
	ok := false
	f.t.DescendLessOrEqual(interval{lo: ip}, func(iv interval) bool {
		if !iv.hi.Less(ip) {
			found, ok = iv, true
		}
		return false
	})
	return found, ok
}

// take removes ip from the set; it is a no-op if ip is not free.
func (f *freeSet) take(ip netip.Addr) {
	iv, ok := f.containing(ip)
	if !ok {
		return
	}
	f.t.Delete(iv)
	if iv.lo.Less(ip) {
		f.insert(iv.lo, ip.Prev())
	}
	if ip.Less(iv.hi) {
		f.insert(ip.Next(), iv.hi)
	}
}

// give returns ip to the set, merging it with adjacent intervals.
func (f *freeSet) give(ip netip.Addr) {
	if _, ok := f.containing(ip); ok {
		return
	}
	lo, hi := ip, ip
	var prev interval
	hasPrev := false
	f.t.DescendLessOrEqual(interval{lo: ip}, func(iv interval) bool {
		prev, hasPrev = iv, true
		return false
	})
	if hasPrev && prev.hi.Next() == ip {
		f.t.Delete(prev)
		lo = prev.lo
	}
	if n := ip.Next(); n.IsValid() {
		if next, ok := f.t.Get(interval{lo: n}); ok {
			f.t.Delete(next)
			hi = next.hi
		}
	}
	f.insert(lo, hi)
}

// lowest returns the lowest allocatable free address without taking it.
func (f *freeSet) lowest() (netip.Addr, bool) {
	for {
		iv, ok := f.t.Min()
		if !ok {
			return netip.Addr{}, false
		}
		if !f.avoidBuggy {
			return iv.lo, true
		}
		lo := iv.lo
		for isBuggy(lo) && lo != iv.hi {
			lo = lo.Next()
		}
		if !isBuggy(lo) {
			if lo != iv.lo {
				f.t.Delete(iv)
				f.insert(lo, iv.hi)
			}
			return lo, true
		}
		f.t.Delete(iv) // only buggy addresses: never allocatable
	}
}

// isBuggy reports whether a is an IPv4 address ending in .0 or .255, which
// buggy CPE firmware may drop as a "smurf" broadcast.
func isBuggy(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	last := a.As4()[3]
	return last == 0 || last == 255
}
