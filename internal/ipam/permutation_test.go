package ipam

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestAllocatorPermutations replays a fixed set of events in every order,
// as cilium's TestHappyPathPermutations does, through a small controller
// model: after each event the controller retries every Service that has no
// IP yet (as a real controller requeues on pool changes), and it resyncs
// once more at the end. Every order must give the same outcome: which keys
// hold IPs, from which pool and of which families, requested IPs exactly,
// which keys fail with which sentinel, and the pool statistics.
//
// Exact auto-assigned addresses are not compared: the allocator gives the
// lowest free address at the time of the request, so d/a gets 198.51.100.0
// if d/pre was deleted before and 198.51.100.1 otherwise. Making that
// order-independent would need moving IPs after the fact, which invariant 2
// forbids.
func TestAllocatorPermutations(t *testing.T) {
	blue := newPool("blue", "198.51.100.0/29")
	green := newPool("green", "203.0.113.0/30", "2001:db8::/126")
	type event struct {
		name string
		do   func(c *ctrl)
	}
	events := []event{
		{"create d/a (auto)", func(c *ctrl) { c.create(mkReq("d/a")) }},
		{"create d/b (requested IP)", func(c *ctrl) { c.create(mkReq("d/b", wantIPs("198.51.100.7"))) }},
		{"create d/c (pool green)", func(c *ctrl) { c.create(mkReq("d/c", inPool("green"))) }},
		{"add pool green", func(c *ctrl) { c.setPools(blue, green) }},
		{"delete d/pre", func(c *ctrl) { c.delete("d/pre") }},
		{"create d/e (dual-stack)", func(c *ctrl) { c.create(mkReq("d/e", families(RequireDualStack, IPv4, IPv6))) }},
		{"create d/f (IP outside pools)", func(c *ctrl) { c.create(mkReq("d/f", wantIPs("192.0.2.1"))) }},
	}
	const want = `d/a: blue [IPv4]
d/b: blue [198.51.100.7]
d/c: green [IPv4]
d/e: green [IPv4 IPv6]
d/f: OutsidePools
blue: IPv4 2/8 IPv6 0/0
green: IPv4 2/4 IPv6 1/4
`
	n := 0
	for perm := range permutations(len(events)) {
		n++
		c := &ctrl{t: t, a: newAlloc(t, blue), reqs: map[string]Request{}, errs: map[string]error{}}
		c.create(mkReq("d/pre"))
		var names []string
		for _, i := range perm {
			names = append(names, events[i].name)
			events[i].do(c)
		}
		c.resync()
		if got := c.outcome(); got != want {
			t.Fatalf("order %s:\ngot:\n%s\nwant:\n%s", strings.Join(names, " → "), got, want)
		}
	}
	if n != 5040 {
		t.Fatalf("ran %d orders, want 7! = 5040", n)
	}
}

// ctrl is a minimal controller loop over an Allocator.
type ctrl struct {
	t    *testing.T
	a    *Allocator
	reqs map[string]Request
	errs map[string]error
}

func (c *ctrl) create(r Request) {
	c.reqs[r.Key] = r
	c.resync()
}

func (c *ctrl) delete(key string) {
	delete(c.reqs, key)
	delete(c.errs, key)
	c.a.Release(key)
	c.resync()
}

func (c *ctrl) setPools(pools ...Pool) {
	if err := c.a.SetPools(pools); err != nil {
		c.t.Fatal(err)
	}
	c.resync()
}

func (c *ctrl) resync() {
	for _, k := range slices.Sorted(maps.Keys(c.reqs)) {
		_, err := c.a.Allocate(c.reqs[k])
		c.errs[k] = err
	}
}

func (c *ctrl) outcome() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c.reqs)) {
		if err := c.errs[k]; err != nil {
			fmt.Fprintf(&b, "%s: %s\n", k, Reason(err))
			continue
		}
		asg, _ := c.a.Lookup(k)
		var ips []string
		for _, ip := range asg.IPs {
			if len(c.reqs[k].RequestedIPs) > 0 {
				ips = append(ips, ip.String())
			} else {
				ips = append(ips, FamilyOf(ip).String())
			}
		}
		fmt.Fprintf(&b, "%s: %s %v\n", k, asg.Pool, ips)
	}
	for _, st := range c.a.Stats() {
		fmt.Fprintf(&b, "%s: IPv4 %v/%v IPv6 %v/%v\n", st.Pool, st.IPv4.InUse, st.IPv4.Size, st.IPv6.InUse, st.IPv6.Size)
	}
	return b.String()
}

// permutations yields every ordering of 0..n-1 (Heap's algorithm).
func permutations(n int) func(yield func([]int) bool) {
	return func(yield func([]int) bool) {
		p := make([]int, n)
		for i := range p {
			p[i] = i
		}
		var gen func(k int) bool
		gen = func(k int) bool {
			if k == 1 {
				return yield(slices.Clone(p))
			}
			for i := range k - 1 {
				if !gen(k - 1) {
					return false
				}
				if k%2 == 0 {
					p[i], p[k-1] = p[k-1], p[i]
				} else {
					p[0], p[k-1] = p[k-1], p[0]
				}
			}
			return gen(k - 1)
		}
		gen(n)
	}
}
