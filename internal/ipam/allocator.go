package ipam

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Allocator tracks pools and the IPs held by Services. It is not safe for
// concurrent use: the controller owns it from one goroutine.
type Allocator struct {
	pools  []*poolState // sorted by name
	byName map[string]*poolState
	held   map[string]holding
	users  map[netip.Addr]holders
	// shared counts, per sharing key, the holders of each IP that use the key.
	shared map[string]map[netip.Addr]int
}

// holding is what one Service holds. It is stored by value, with its IPs
// inline and the sharing details only for Services that share, so that
// finding it costs one map probe however many Services there are.
type holding struct {
	pool  string
	ips   ipList
	share *share // nil: the Service does not share
}

func (h holding) assignment() Assignment {
	return Assignment{Pool: h.pool, IPs: slices.Clone(h.ips.slice())}
}

// sharing returns the Service's sharing details; the zero share if none.
func (h holding) sharing() share {
	if h.share == nil {
		return share{}
	}
	return *h.share
}

// ipList is the one IP, or two IPs of different families, a Service holds,
// primary first.
type ipList struct {
	a [2]netip.Addr
	n int
}

// listOf returns ips, at most two, with the primary family first.
func listOf(ips []netip.Addr, primary Family) ipList {
	var l ipList
	l.n = copy(l.a[:], ips)
	if l.n == 2 && FamilyOf(l.a[0]) != primary {
		l.a[0], l.a[1] = l.a[1], l.a[0]
	}
	return l
}

func (l *ipList) slice() []netip.Addr { return l.a[:l.n] }

// New returns an Allocator with no pools.
func New() *Allocator {
	return &Allocator{
		byName: map[string]*poolState{},
		held:   map[string]holding{},
		users:  map[netip.Addr]holders{},
		shared: map[string]map[netip.Addr]int{},
	}
}

// SetPools replaces the pool set. Assignments are kept, even those whose IPs
// no longer lie in any pool (see Orphans). An assignment whose pool no
// longer holds its IPs moves, by name, to the first pool that holds all of
// them. On error (a pool without a name, an invalid range, two pools with
// one name) the allocator is unchanged.
//
// Pools should not overlap (the config layer decides which pool of an
// overlapping pair is valid, see FindOverlaps). If they do, an IP is still
// given to one Service only.
func (a *Allocator) SetPools(pools []Pool) error {
	states := make([]*poolState, 0, len(pools))
	byName := make(map[string]*poolState, len(pools))
	for _, p := range pools {
		ps, err := newPoolState(p)
		if err != nil {
			return err
		}
		if byName[p.Name] != nil {
			return errorf(ErrInvalidPool, "pool %q is defined twice", p.Name)
		}
		byName[p.Name] = ps
		states = append(states, ps)
	}
	slices.SortFunc(states, func(x, y *poolState) int { return cmp.Compare(x.Name, y.Name) })
	for ip := range a.users {
		for _, ps := range states {
			if ps.contains(ip) {
				f := FamilyOf(ip).index()
				ps.free[f].take(ip)
				ps.inUse[f]++
			}
		}
	}
	a.pools, a.byName = states, byName
	for key, h := range a.held {
		if cur := byName[h.pool]; cur != nil && cur.containsAll(h.ips.slice()) {
			continue
		}
		for _, ps := range states {
			if ps.containsAll(h.ips.slice()) {
				h.pool = ps.Name
				a.held[key] = h
				break
			}
		}
	}
	return nil
}

// Assign records an assignment that already exists, such as an IP found in
// a Service's status when the controller starts: load every one of them
// before allocating anything new. It succeeds even when the IPs lie in no
// pool or in a pool the Service would not be given now; it fails only on
// invalid input or when another Service holds an IP and the sharing rules
// forbid sharing it (the error names the holder). It returns the pool the
// assignment is recorded in: the pool that holds the IPs, or, for IPs that
// lie in no pool (an orphan, left outside by a pool edit), req.Pool, the
// pool they came from if the caller knows it. An orphan recorded so is what
// it was before the restart: Allocate keeps it for a Service that names
// that pool, and Users counts it as that pool's orphan.
func (a *Allocator) Assign(req Request, ips []netip.Addr) (string, error) {
	if req.Key == "" {
		return "", errorf(ErrInvalidRequest, "request has no key")
	}
	if len(ips) == 0 {
		return "", errorf(ErrInvalidRequest, "service %s: no IP to assign", req.Key)
	}
	if err := checkIPs(req.Key, ips); err != nil {
		return "", err
	}
	s := shareOf(req)
	for _, ip := range ips {
		if err := a.canUse("IP "+ip.String(), req.Key, s, ip); err != nil {
			return "", err
		}
	}
	pool, inPool := a.PoolFor(ips)
	switch p := a.byName[req.Pool]; {
	case p != nil && p.containsAll(ips):
		pool = p.Name
	case !inPool:
		pool = req.Pool
	}
	primary := IPv4
	if len(req.Families) > 0 {
		primary = req.Families[0]
	}
	a.Release(req.Key)
	a.hold(req.Key, holding{pool: pool, ips: listOf(ips, primary), share: s.ref()})
	return pool, nil
}

// Allocate gives the Service of req its IPs. It is idempotent: if the
// Service already holds IPs that still satisfy req (same requested IPs,
// same named pool, families the policy accepts, sharing still allowed) it
// gets them back unchanged, even if its pool was edited or removed since.
// A PreferDualStack Service holding one family gets the other added from
// the same pool when possible. Allocate is atomic: on error the allocator is
// unchanged, and the Service keeps what it held.
func (a *Allocator) Allocate(req Request) (Assignment, error) {
	w, err := req.validate()
	if err != nil {
		return Assignment{}, err
	}
	old, had := a.held[req.Key]
	if had && a.satisfies(req, w, old) {
		s := shareOf(req)
		h := holding{pool: old.pool, ips: old.ips, share: s.ref()}
		grow := w.policy == PreferDualStack && h.ips.n == 1
		if !grow && s.key == old.sharing().key {
			// The common case of a resync: nothing moves, so the free sets,
			// the IP index and the sharing counts stay as they are.
			h.ips = listOf(h.ips.slice(), w.primary)
			a.held[req.Key] = h
			return h.assignment(), nil
		}
		a.unhold(req.Key, old)
		if grow {
			if p := a.byName[h.pool]; p != nil && p.ClosedTo(req) == nil {
				if ips, err := a.supply(p, req.Key, s, []Family{FamilyOf(h.ips.a[0]).other()}, w.policy); err == nil {
					h.ips.a[1], h.ips.n = ips.a[0], 2
				}
			}
		}
		h.ips = listOf(h.ips.slice(), w.primary)
		a.hold(req.Key, h)
		return h.assignment(), nil
	}
	if had {
		a.unhold(req.Key, old)
	}
	h, err := a.allocateNew(req, w)
	if err != nil {
		if had {
			a.hold(req.Key, old)
		}
		return Assignment{}, err
	}
	a.hold(req.Key, h)
	return h.assignment(), nil
}

// retainSuffix makes the key under which AllocateRetaining keeps the IPs a
// Service is moving off. No Service key contains a space, so it names no
// Service, and it reads well in an error: "in use by ns/web (moving off it)".
const retainSuffix = " (moving off it)"

func retainKey(key string) string { return key + retainSuffix }

func isRetainKey(key string) bool { return strings.HasSuffix(key, retainSuffix) }

// AllocateRetaining is Allocate for a Service whose status shows the IPs
// shown. If the Service moves off some of them, they are not freed yet: they
// stay held under another key, shared as the Service shared them, so that
// no other Service is given an IP that a status still shows. ReleaseRetained
// frees them once the status no longer shows them; Release frees them with
// the rest.
func (a *Allocator) AllocateRetaining(req Request, shown []netip.Addr) (Assignment, error) {
	rk := retainKey(req.Key)
	old, had := a.held[req.Key]
	kept, hadKept := a.held[rk]
	asg, err := a.Allocate(req)
	if err != nil {
		return asg, err
	}
	next := holding{pool: kept.pool, share: kept.share}
	var ips []netip.Addr
	for _, ip := range shown {
		switch {
		case slices.Contains(asg.IPs, ip):
		case had && slices.Contains(old.ips.slice(), ip):
			ips = append(ips, ip)
			next.pool, next.share = old.pool, old.share
		case hadKept && slices.Contains(kept.ips.slice(), ip):
			ips = append(ips, ip)
		}
	}
	if hadKept {
		a.unhold(rk, kept)
	}
	if len(ips) > 0 {
		next.ips = listOf(ips, FamilyOf(ips[0]))
		a.hold(rk, next)
	}
	return asg, nil
}

// ReleaseRetained frees what AllocateRetaining kept for key.
func (a *Allocator) ReleaseRetained(key string) { a.Release(retainKey(key)) }

// Retained returns what AllocateRetaining keeps for key.
func (a *Allocator) Retained(key string) []netip.Addr {
	h, ok := a.held[retainKey(key)]
	if !ok {
		return nil
	}
	return slices.Clone(h.ips.slice())
}

// satisfies reports whether old, what the Service of req holds, still serves
// req.
func (a *Allocator) satisfies(req Request, w want, old holding) bool {
	if len(req.RequestedIPs) > 0 && !SameIPs(req.RequestedIPs, old.ips.slice()) {
		return false
	}
	if req.Pool != "" && old.pool != req.Pool {
		return false
	}
	switch w.policy {
	case SingleStack:
		if old.ips.n != 1 || FamilyOf(old.ips.a[0]) != w.primary {
			return false
		}
	case RequireDualStack:
		if old.ips.n != 2 {
			return false
		}
	}
	s := shareOf(req)
	for _, ip := range old.ips.slice() {
		if a.canUse("", req.Key, s, ip) != nil {
			return false
		}
	}
	return true
}

// SameIPs reports whether x and y hold the same addresses, in any order.
func SameIPs(x, y []netip.Addr) bool {
	if len(x) != len(y) {
		return false
	}
	for _, ip := range x {
		if !slices.Contains(y, ip) {
			return false
		}
	}
	return true
}

// allocateNew chooses fresh IPs for req, which holds nothing.
func (a *Allocator) allocateNew(req Request, w want) (holding, error) {
	if len(req.RequestedIPs) > 0 {
		return a.allocateRequested(req, w)
	}
	if req.Pool != "" {
		p := a.byName[req.Pool]
		if p == nil {
			return holding{}, errorf(ErrUnknownPool, "pool %q does not exist", req.Pool)
		}
		if err := p.ClosedTo(req); err != nil {
			return holding{}, err
		}
		return a.fromPools([]*poolState{p}, req, w)
	}
	cands := a.candidates(req)
	if len(cands) == 0 {
		return holding{}, errorf(ErrNoPoolMatches, "no auto-assign pool accepts service %s", req.Key)
	}
	return a.fromPools(cands, req, w)
}

// allocateRequested serves a request for given IPs.
func (a *Allocator) allocateRequested(req Request, w want) (holding, error) {
	ips := req.RequestedIPs
	var p *poolState
	if req.Pool != "" {
		p = a.byName[req.Pool]
		if p == nil {
			return holding{}, errorf(ErrUnknownPool, "pool %q does not exist", req.Pool)
		}
		for _, ip := range ips {
			if !p.contains(ip) {
				return holding{}, errorf(ErrNotInNamedPool, "requested IP %s is not in pool %q", ip, p.Name)
			}
		}
		if err := p.ClosedTo(req); err != nil {
			return holding{}, err
		}
	} else {
		for _, ip := range ips {
			if !slices.ContainsFunc(a.pools, func(q *poolState) bool { return q.contains(ip) }) {
				return holding{}, errorf(ErrOutsidePools, "requested IP %s is not in any pool", ip)
			}
		}
		var denied error
		for _, q := range a.pools {
			if !q.containsAll(ips) {
				continue
			}
			err := q.ClosedTo(req)
			if err == nil {
				p = q
				break
			}
			if denied == nil {
				denied = prefixed(fmt.Sprintf("requested IPs %v: ", ips), err)
			}
		}
		switch {
		case p == nil && denied != nil:
			return holding{}, denied
		case p == nil:
			return holding{}, errorf(ErrOutsidePools, "requested IPs %v are not in a single pool", ips)
		}
	}
	s := shareOf(req)
	for _, ip := range ips {
		if err := a.canUse("requested IP "+ip.String(), req.Key, s, ip); err != nil {
			return holding{}, err
		}
	}
	return holding{pool: p.Name, ips: listOf(ips, w.primary), share: s.ref()}, nil
}

// fromPools takes the first candidate pool that can supply req. A
// PreferDualStack request takes, as MetalLB does, the first pool that can
// supply both families, else the first that can supply the primary family,
// else the first that can supply the other one. The error is that of the
// first candidate.
func (a *Allocator) fromPools(cands []*poolState, req Request, w want) (holding, error) {
	s := shareOf(req)
	try := func(fams []Family) (holding, error) {
		var first error
		for _, p := range cands {
			ips, err := a.supply(p, req.Key, s, fams, w.policy)
			if err == nil {
				return holding{pool: p.Name, ips: ips, share: s.ref()}, nil
			}
			if first == nil {
				first = err
			}
		}
		if len(cands) > 1 {
			first = prefixed(fmt.Sprintf("none of %d eligible pools can serve %s; first: ", len(cands), req.Key), first)
		}
		return holding{}, first
	}
	if w.policy != PreferDualStack {
		return try(w.fams())
	}
	if h, err := try(w.fams()); err == nil {
		return h, nil
	}
	h, err := try([]Family{w.primary})
	if err == nil {
		return h, nil
	}
	if h, err2 := try([]Family{w.secondary}); err2 == nil {
		return h, nil
	}
	return holding{}, err
}

// supply picks one IP per family from p, in the order of fams, without
// taking them.
func (a *Allocator) supply(p *poolState, key string, s share, fams []Family, policy FamilyPolicy) (ipList, error) {
	var out ipList
	for _, f := range fams {
		if !p.has[f.index()] {
			if policy == RequireDualStack {
				return ipList{}, errorf(ErrDualStackImpossible, "pool %q has no %v addresses, and service %s requires dual-stack", p.Name, f, key)
			}
			return ipList{}, errorf(ErrFamilyUnavailable, "pool %q has no %v addresses", p.Name, f)
		}
		ip, ok := a.pick(p, f, key, s)
		if !ok {
			st := p.familyStats(f)
			return ipList{}, errorf(ErrPoolExhausted, "pool %q is exhausted (%v: %s of %s available)", p.Name, f, st.Available, st.Size)
		}
		out.a[out.n] = ip
		out.n++
	}
	return out, nil
}

// pick returns the IP of family f in p that a Service with s gets: the
// lowest IP already used with the same sharing key that it may share, else
// the lowest free IP.
func (a *Allocator) pick(p *poolState, f Family, key string, s share) (netip.Addr, bool) {
	if s.key != "" {
		var best netip.Addr
		for ip := range a.shared[s.key] {
			if FamilyOf(ip) != f || !p.contains(ip) || (best.IsValid() && !ip.Less(best)) {
				continue
			}
			if a.canUse("", key, s, ip) == nil {
				best = ip
			}
		}
		if best.IsValid() {
			return best, true
		}
	}
	return p.free[f.index()].lowest()
}

// Release frees what key holds, and what AllocateRetaining keeps for it.
// Releasing a key that holds nothing is a no-op.
func (a *Allocator) Release(key string) {
	if h, ok := a.held[key]; ok {
		a.unhold(key, h)
	}
	if rk := retainKey(key); !isRetainKey(key) {
		if h, ok := a.held[rk]; ok {
			a.unhold(rk, h)
		}
	}
}

// Lookup returns what key holds.
func (a *Allocator) Lookup(key string) (Assignment, bool) {
	h, ok := a.held[key]
	if !ok {
		return Assignment{}, false
	}
	return h.assignment(), true
}

// PoolContains reports whether ips is not empty and every one of them is an
// allocatable address of the named pool (see poolState.contains). It is
// false for a pool that is not in the allocator.
func (a *Allocator) PoolContains(pool string, ips []netip.Addr) bool {
	p := a.byName[pool]
	return p != nil && p.containsAll(ips)
}

// PoolFor returns the pool in force that holds every one of ips (the first
// by name, should pools overlap), as Assign would record them.
func (a *Allocator) PoolFor(ips []netip.Addr) (string, bool) {
	for _, p := range a.pools {
		if p.containsAll(ips) {
			return p.Name, true
		}
	}
	return "", false
}

// Holders returns the keys holding ip, sorted.
func (a *Allocator) Holders(ip netip.Addr) []string { return a.users[ip].list() }

// Users counts the keys assigned from pool, and among them the orphans,
// whose IPs the pool no longer contains all of.
func (a *Allocator) Users(pool string) (users, orphans int) {
	p := a.byName[pool]
	for key, h := range a.held {
		if h.pool != pool {
			continue
		}
		// IPs kept while a Service moves off them still hold the pool,
		// but are not orphans: the Service has new ones.
		users++
		if (p == nil || !p.containsAll(h.ips.slice())) && !isRetainKey(key) {
			orphans++
		}
	}
	return users, orphans
}

// Orphans returns, sorted, the keys whose IPs are not all in their pool:
// IPs recorded outside every pool, or left outside by a pool edit. They keep
// their IPs; the controller warns about them.
func (a *Allocator) Orphans() []string {
	var out []string
	for key, h := range a.held {
		if isRetainKey(key) {
			continue
		}
		if p := a.byName[h.pool]; p == nil || !p.containsAll(h.ips.slice()) {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// hold records h for key, which must hold nothing.
func (a *Allocator) hold(key string, h holding) {
	a.held[key] = h
	for _, ip := range h.ips.slice() {
		us := a.users[ip]
		if us.len() == 0 {
			for _, p := range a.pools {
				if p.contains(ip) {
					f := FamilyOf(ip).index()
					p.free[f].take(ip)
					p.inUse[f]++
				}
			}
		}
		a.users[ip] = us.add(key)
		if h.share != nil {
			m := a.shared[h.share.key]
			if m == nil {
				m = map[netip.Addr]int{}
				a.shared[h.share.key] = m
			}
			m[ip]++
		}
	}
}

// unhold removes h, what key holds.
func (a *Allocator) unhold(key string, h holding) {
	delete(a.held, key)
	for _, ip := range h.ips.slice() {
		us := a.users[ip].remove(key)
		if us.len() > 0 {
			a.users[ip] = us
		} else {
			delete(a.users, ip)
			for _, p := range a.pools {
				if p.contains(ip) {
					f := FamilyOf(ip).index()
					p.free[f].give(ip)
					p.inUse[f]--
				}
			}
		}
		if h.share != nil {
			m := a.shared[h.share.key]
			if m[ip]--; m[ip] <= 0 {
				delete(m, ip)
			}
			if len(m) == 0 {
				delete(a.shared, h.share.key)
			}
		}
	}
}

// prefixed returns err with prefix added to its message, keeping its
// sentinels.
func prefixed(prefix string, err error) error {
	if d, ok := err.(*detailError); ok {
		return &detailError{msg: prefix + d.msg, kinds: d.kinds}
	}
	return fmt.Errorf("%s%w", prefix, err)
}
