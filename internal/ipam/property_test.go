package ipam

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"
)

// propWorld is the test's own model of the configuration and of what each
// Service asked for when it last got its IPs.
type propWorld struct {
	t       *testing.T
	rng     *rand.Rand
	a       *Allocator
	ranges  map[string][]string // pool → candidate ranges
	enabled map[string]map[string]bool
	reqs    map[string]Request // current request of each created key
	held    map[string]Request // request in force for each holding
	last    map[string][]netip.Addr

	allocated, failed, sharedSeen int // coverage counters
}

var propKeys = []string{"a/0", "a/1", "a/2", "a/3", "b/4", "b/5", "b/6", "b/7", "c/8", "c/9", "c/10", "c/11"}

func (w *propWorld) pools() []Pool {
	var out []Pool
	for _, name := range []string{"auto", "dual", "manual"} {
		p := Pool{Name: name, AutoAssign: name != "manual", AvoidBuggyIPs: name == "auto"}
		if name == "dual" {
			p.Priority = 1
			p.Namespaces = []string{"b"}
		}
		for _, r := range w.ranges[name] {
			if w.enabled[name][r] {
				p.Ranges = append(p.Ranges, MustParseRange(r))
			}
		}
		out = append(out, p)
	}
	return out
}

func (w *propWorld) randomRequest(key string) Request {
	r := mkReq(key)
	switch w.rng.IntN(4) {
	case 1:
		r.Policy, r.Families = SingleStack, []Family{IPv6}
	case 2:
		r.Policy, r.Families = PreferDualStack, []Family{IPv4, IPv6}
	case 3:
		r.Policy, r.Families = RequireDualStack, []Family{IPv6, IPv4}
	}
	switch w.rng.IntN(10) {
	case 0:
		r.Pool = []string{"auto", "dual", "manual", "ghost"}[w.rng.IntN(4)]
	case 1:
		ip := []string{"198.51.100.1", "198.51.100.255", "203.0.113.2", "192.0.2.1", "2001:db8::3"}[w.rng.IntN(5)]
		r.RequestedIPs = addrs(ip)
		r.Policy, r.Families = SingleStack, []Family{FamilyOf(r.RequestedIPs[0])}
	}
	r.SharingKey = []string{"", "", "s1", "s2"}[w.rng.IntN(4)]
	r.Ports = []Port{[]Port{tcp(80), tcp(443), udp(53)}[w.rng.IntN(3)]}
	r.Local = w.rng.IntN(3) == 0
	r.Backend = []string{"x", "y"}[w.rng.IntN(2)]
	return r
}

// allocate runs Allocate and updates the model.
func (w *propWorld) allocate(r Request) {
	before, had := w.a.Lookup(r.Key)
	got, err := w.a.Allocate(r)
	if err != nil {
		w.failed++
		if Reason(err) == "Other" {
			w.t.Fatalf("Allocate(%s): error wraps no sentinel: %v", r.Key, err)
		}
		now, has := w.a.Lookup(r.Key)
		if has != had || !slices.Equal(now.IPs, before.IPs) {
			w.t.Fatalf("failed Allocate(%s) changed its holding: %v → %v", r.Key, before, now)
		}
		return
	}
	for _, ip := range r.RequestedIPs {
		if !slices.Contains(got.IPs, ip) {
			w.t.Fatalf("Allocate(%s) = %v, requested %v", r.Key, got.IPs, r.RequestedIPs)
		}
	}
	w.allocated++
	w.held[r.Key] = r
	w.last[r.Key] = got.IPs
}

func (w *propWorld) restart() {
	old := w.a
	w.a = New()
	if err := w.a.SetPools(w.pools()); err != nil {
		w.t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range w.held {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		asg, _ := old.Lookup(k)
		if _, err := w.a.Assign(w.held[k], asg.IPs); err != nil {
			w.t.Fatalf("restart: Assign(%s, %v): %v", k, asg.IPs, err)
		}
	}
}

// check verifies the invariants. moved lists the keys allowed to change.
func (w *propWorld) check(step int, what string, moved ...string) {
	t := w.t
	ctx := fmt.Sprintf("step %d (%s)", step, what)
	users := map[netip.Addr][]string{}
	for k := range w.held {
		asg, ok := w.a.Lookup(k)
		if !ok {
			t.Fatalf("%s: %s lost its IPs", ctx, k)
		}
		if !slices.Contains(moved, k) {
			for _, ip := range w.last[k] {
				if !slices.Contains(asg.IPs, ip) {
					t.Fatalf("%s: %s moved from %v to %v", ctx, k, w.last[k], asg.IPs)
				}
			}
		}
		w.last[k] = asg.IPs
		for _, ip := range asg.IPs {
			users[ip] = append(users[ip], k)
		}
	}
	for ip, us := range users {
		slices.Sort(us)
		if len(us) > 1 {
			w.sharedSeen++
		}
		if h := w.a.Holders(ip); !slices.Equal(h, us) {
			t.Fatalf("%s: Holders(%v) = %v, want %v", ctx, ip, h, us)
		}
		for i := range us {
			for j := i + 1; j < len(us); j++ {
				if err := canShare("IP", shareOf(w.held[us[i]]), us[j], shareOf(w.held[us[j]])); err != nil {
					t.Fatalf("%s: %v shared by %s and %s: %v", ctx, ip, us[i], us[j], err)
				}
			}
		}
	}
	for _, p := range w.pools() {
		st, ok := w.a.PoolStats(p.Name)
		if !ok {
			t.Fatalf("%s: no stats for %s", ctx, p.Name)
		}
		var b netipx.IPSetBuilder
		for _, r := range p.Ranges {
			b.AddRange(r)
		}
		set, _ := b.IPSet()
		var inUse [2]int64
		for ip := range users {
			if set.Contains(ip) && !(p.AvoidBuggyIPs && isBuggy(ip)) {
				inUse[FamilyOf(ip).index()]++
			}
		}
		for _, f := range []Family{IPv4, IPv6} {
			fs := st.Family(f)
			sum := fs.InUse.Int64() + fs.Available.Int64()
			if sum != fs.Size.Int64() || fs.InUse.Int64() != inUse[f.index()] || fs.Available.Sign() < 0 {
				t.Fatalf("%s: pool %s %v: in use %v (want %d) + available %v != size %v", ctx, p.Name, f, fs.InUse, inUse[f.index()], fs.Available, fs.Size)
			}
		}
	}
}

func TestAllocatorProperties(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 42, 2024} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := &propWorld{
				t:   t,
				rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
				a:   New(),
				ranges: map[string][]string{
					"auto":   {"198.51.100.0/29", "198.51.100.250-198.51.101.2", "2001:db8::/126"},
					"dual":   {"203.0.113.0/30", "2001:db8:1::/127", "2001:db8:1::10/126"},
					"manual": {"192.0.2.0/30", "2001:db8:2::/126"},
				},
				enabled: map[string]map[string]bool{},
				reqs:    map[string]Request{},
				held:    map[string]Request{},
				last:    map[string][]netip.Addr{},
			}
			for p, rs := range w.ranges {
				w.enabled[p] = map[string]bool{}
				for _, r := range rs {
					w.enabled[p][r] = true
				}
			}
			if err := w.a.SetPools(w.pools()); err != nil {
				t.Fatal(err)
			}
			for step := range 3000 {
				switch op := w.rng.IntN(20); {
				case op < 8: // create or update
					k := propKeys[w.rng.IntN(len(propKeys))]
					r := w.randomRequest(k)
					w.reqs[k] = r
					w.allocate(r)
					w.check(step, "allocate "+k, k)
				case op < 11: // delete
					k := propKeys[w.rng.IntN(len(propKeys))]
					w.a.Release(k)
					delete(w.reqs, k)
					delete(w.held, k)
					delete(w.last, k)
					w.check(step, "delete "+k)
				case op < 15: // resync: unchanged requests must not move
					for _, k := range propKeys {
						if r, ok := w.reqs[k]; ok {
							w.allocate(r)
						}
					}
					w.check(step, "resync")
				case op < 18: // pool edit
					names := []string{"auto", "dual", "manual"}
					p := names[w.rng.IntN(3)]
					r := w.ranges[p][w.rng.IntN(len(w.ranges[p]))]
					w.enabled[p][r] = !w.enabled[p][r]
					if err := w.a.SetPools(w.pools()); err != nil {
						t.Fatal(err)
					}
					w.check(step, fmt.Sprintf("toggle %s %s", p, r))
				default:
					w.restart()
					w.check(step, "restart")
				}
			}
			t.Logf("%d allocations, %d refusals, %d shared-IP observations", w.allocated, w.failed, w.sharedSeen)
			if w.allocated == 0 || w.failed == 0 || w.sharedSeen == 0 {
				t.Errorf("the random walk does not cover allocation, refusal and sharing")
			}
		})
	}
}
