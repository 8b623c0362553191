package ipam

import (
	"cmp"
	"math/big"
	"net/netip"
	"slices"

	"go4.org/netipx"
)

// Selector matches a label set. The caller adapts Kubernetes label
// selectors, so that ipam stays free of Kubernetes types.
type Selector func(labels map[string]string) bool

// Pool is one address pool (an IPAddressPool).
type Pool struct {
	Name   string
	Ranges []netipx.IPRange
	// AutoAssign false: only Services that ask for the pool by name or by IP
	// get addresses from it.
	AutoAssign bool
	// AvoidBuggyIPs skips IPv4 addresses whose last octet is 0 or 255.
	AvoidBuggyIPs bool
	// Excluded are addresses of Ranges the pool never hands out and does
	// not count, such as the Subnet-Router anycast address of an IPv6 CIDR
	// (see SubnetRouterAnycast). A Service that already holds one keeps it,
	// as an orphan.
	Excluded []netip.Addr
	// Deleting: the pool is being deleted. Services keep the addresses they
	// hold, and those addresses are counted, but the pool gives out no new
	// address, not even when asked for by name or by IP.
	Deleting bool

	// Priority orders auto-assignment: lower first; 0 (or less) is unset,
	// after all set priorities.
	Priority int
	// Namespaces, NamespaceSelectors and ServiceSelectors pin the pool: if
	// any is set, only matching Services may use it (namespace listed or
	// matching any namespace selector, and matching any service selector).
	Namespaces         []string
	NamespaceSelectors []Selector
	ServiceSelectors   []Selector
}

// Pinned reports whether the pool is restricted to some Services.
func (p Pool) Pinned() bool {
	return len(p.Namespaces) > 0 || len(p.NamespaceSelectors) > 0 || len(p.ServiceSelectors) > 0
}

// ClosedTo says why the pool gives the Service of req no new address: nil
// if it may get one, an error wrapping ErrPoolDeleting if the pool is being
// deleted, or ErrPoolNotAllowed if the pool is pinned to other Services.
// Addresses a Service already holds are never checked against it: a pool
// edit or deletion does not take them away.
func (p Pool) ClosedTo(req Request) error {
	switch {
	case p.Deleting:
		return errorf(ErrPoolDeleting, "pool %q is being deleted: it gives out no new address", p.Name)
	case !p.Allows(req):
		return errorf(ErrPoolNotAllowed, "pool %q does not accept service %s (namespace or service selectors)", p.Name, req.Key)
	}
	return nil
}

// Allows reports whether the Service of req may use the pool.
func (p Pool) Allows(req Request) bool {
	if len(p.Namespaces) > 0 || len(p.NamespaceSelectors) > 0 {
		ok := slices.Contains(p.Namespaces, req.Namespace)
		for _, s := range p.NamespaceSelectors {
			if ok {
				break
			}
			ok = s != nil && s(req.NamespaceLabels)
		}
		if !ok {
			return false
		}
	}
	if len(p.ServiceSelectors) > 0 {
		return slices.ContainsFunc(p.ServiceSelectors, func(s Selector) bool {
			return s != nil && s(req.ServiceLabels)
		})
	}
	return true
}

// poolState is a pool with its free sets and counters.
type poolState struct {
	Pool
	set   *netipx.IPSet
	has   [2]bool
	free  [2]*freeSet
	size  [2]*big.Int
	inUse [2]int64
}

func newPoolState(p Pool) (*poolState, error) {
	if p.Name == "" {
		return nil, errorf(ErrInvalidPool, "pool has no name")
	}
	var b netipx.IPSetBuilder
	for _, r := range p.Ranges {
		if !r.IsValid() {
			return nil, errorf(ErrInvalidPool, "pool %q has invalid range %q", p.Name, r.String())
		}
		b.AddRange(r)
	}
	for _, ip := range p.Excluded {
		b.Remove(ip)
	}
	set, err := b.IPSet()
	if err != nil {
		return nil, errorf(ErrInvalidPool, "pool %q: %v", p.Name, err)
	}
	p.Ranges = slices.Clone(p.Ranges)
	p.Excluded = slices.Clone(p.Excluded)
	ps := &poolState{Pool: p, set: set}
	for i := range 2 {
		ps.free[i] = newFreeSet(p.AvoidBuggyIPs)
		ps.size[i] = new(big.Int)
	}
	// The set's ranges are sorted, disjoint and not adjacent.
	for _, r := range set.Ranges() {
		f := FamilyOf(r.From()).index()
		ps.has[f] = true
		ps.free[f].insert(r.From(), r.To())
		ps.size[f].Add(ps.size[f], rangeSize(r, p.AvoidBuggyIPs))
	}
	return ps, nil
}

// contains reports whether ip is an allocatable address of the pool: in its
// ranges, and not skipped by AvoidBuggyIPs. This is the only meaning of "in
// the pool" in Herald: allocation, orphan detection and the reconciler's
// ownership checks (through Allocator.PoolContains) all use it.
func (p *poolState) contains(ip netip.Addr) bool {
	return p.set.Contains(ip) && !(p.AvoidBuggyIPs && isBuggy(ip))
}

// containsAll reports whether ips is not empty and every one of them is an
// allocatable address of the pool. An empty list is in no pool: a Service
// without addresses holds nothing of any pool.
func (p *poolState) containsAll(ips []netip.Addr) bool {
	for _, ip := range ips {
		if !p.contains(ip) {
			return false
		}
	}
	return len(ips) > 0
}

// rangeSize returns the number of allocatable addresses in r.
func rangeSize(r netipx.IPRange, avoidBuggy bool) *big.Int {
	lo := new(big.Int).SetBytes(r.From().AsSlice())
	n := new(big.Int).SetBytes(r.To().AsSlice())
	n.Sub(n, lo).Add(n, big.NewInt(1))
	if avoidBuggy && r.From().Is4() {
		a, b := r.From().As4(), r.To().As4()
		x := int64(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
		y := int64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		n.Sub(n, big.NewInt(countMod256(x, y, 0)+countMod256(x, y, 255)))
	}
	return n
}

// countMod256 counts the v in [x, y] with v%256 == rem.
func countMod256(x, y, rem int64) int64 {
	upTo := func(v int64) int64 { // count in [0, v]
		if v < rem {
			return 0
		}
		return (v-rem)/256 + 1
	}
	return upTo(y) - upTo(x-1)
}

// comparePools orders auto-assignment candidates: pinned first, then set
// priorities before unset ones (lower first), then by name.
func comparePools(a, b *poolState) int {
	if a.Pinned() != b.Pinned() {
		if a.Pinned() {
			return -1
		}
		return 1
	}
	if (a.Priority > 0) != (b.Priority > 0) {
		if a.Priority > 0 {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(max(a.Priority, 0), max(b.Priority, 0)), cmp.Compare(a.Name, b.Name))
}
