package ipam

import (
	"errors"
	"net/netip"
	"testing"
)

func deletingPool() poolOpt { return func(p *Pool) { p.Deleting = true } }

func TestPoolClosedTo(t *testing.T) {
	tests := []struct {
		name string
		pool Pool
		req  Request
		want error // nil: the pool may give the Service a new address
	}{
		{"open pool", mkPool("p", nil), mkReq("a/x"), nil},
		{"pinned to the Service's namespace", mkPool("p", nil, namespaces("a")), mkReq("a/x"), nil},
		{"pinned elsewhere", mkPool("p", nil, namespaces("b")), mkReq("a/x"), ErrPoolNotAllowed},
		{"service selector does not match", mkPool("p", nil, svcSelector("tier", "gold")), mkReq("a/x"), ErrPoolNotAllowed},
		{"being deleted", mkPool("p", nil, deletingPool()), mkReq("a/x"), ErrPoolDeleting},
		{"being deleted wins over pinning", mkPool("p", nil, deletingPool(), namespaces("b")), mkReq("a/x"), ErrPoolDeleting},
		{"autoAssign=false is not closed: it serves by name", mkPool("p", nil, manual()), mkReq("a/x"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pool.ClosedTo(tt.req)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ClosedTo = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ClosedTo = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeletingPoolGivesNothingNew(t *testing.T) {
	gone := mkPool("gone", []string{"198.51.100.0/30"}, deletingPool())
	other := newPool("other", "203.0.113.0/30")
	runAllocCases(t, []allocCase{
		{name: "by name", pools: []Pool{gone}, req: mkReq("d/w", inPool("gone")),
			wantErr: ErrPoolDeleting, wantMsg: `pool "gone" is being deleted`},
		{name: "by IP", pools: []Pool{gone}, req: mkReq("d/w", wantIPs("198.51.100.1")),
			wantErr: ErrPoolDeleting, wantMsg: `requested IPs [198.51.100.1]: pool "gone" is being deleted`},
		{name: "by IP and name", pools: []Pool{gone}, req: mkReq("d/w", inPool("gone"), wantIPs("198.51.100.1")),
			wantErr: ErrPoolDeleting},
		{name: "auto-assign skips it", pools: []Pool{gone, other}, req: mkReq("d/w"),
			wantPool: "other", wantIPs: []string{"203.0.113.0"}},
		{name: "auto-assign with nothing else", pools: []Pool{gone}, req: mkReq("d/w"), wantErr: ErrNoPoolMatches},
	})
}

func TestDeletingPoolKeepsHolders(t *testing.T) {
	open := newPool("p", "198.51.100.0/30", "2001:db8::/126")
	a := newAlloc(t, open)
	first := mustAllocate(t, a, mkReq("d/a"))
	pref := mustAllocate(t, a, mkReq("d/b", families(SingleStack, IPv4)))
	if err := a.SetPools([]Pool{mkPool("p", []string{"198.51.100.0/30", "2001:db8::/126"}, deletingPool())}); err != nil {
		t.Fatal(err)
	}
	again := mustAllocate(t, a, mkReq("d/a"))
	if again.Pool != "p" || !SameIPs(again.IPs, first.IPs) {
		t.Errorf("holder of a deleting pool got %v, want %v kept", again, first)
	}
	// A PreferDualStack holder keeps its address but gets no second family
	// from a pool being deleted.
	grown := mustAllocate(t, a, mkReq("d/b", families(PreferDualStack, IPv4, IPv6)))
	if !SameIPs(grown.IPs, pref.IPs) {
		t.Errorf("PreferDualStack holder of a deleting pool = %v, want only %v", grown.IPs, pref.IPs)
	}
	if st, _ := a.PoolStats("p"); st.IPv4.InUse.Int64() != 2 {
		t.Errorf("a deleting pool counts %v IPv4 in use, want 2", st.IPv4.InUse)
	}
	if users, orphans := a.Users("p"); users != 2 || orphans != 0 {
		t.Errorf("Users = %d, %d; want 2 users and no orphan", users, orphans)
	}
}

func TestPoolContains(t *testing.T) {
	a := newAlloc(t, mkPool("bug", []string{"198.51.100.0/24"}, avoidBuggy()), newPool("v6", "2001:db8::/64"))
	tests := []struct {
		pool string
		ips  []string
		want bool
	}{
		{"bug", []string{"198.51.100.1"}, true},
		{"bug", []string{"198.51.100.0"}, false}, // skipped by avoidBuggyIPs: not an address of the pool
		{"bug", []string{"198.51.100.1", "2001:db8::1"}, false},
		{"v6", []string{"2001:db8::1"}, true},
		{"bug", nil, false}, // no address is in no pool
		{"missing", []string{"198.51.100.1"}, false},
	}
	for _, tt := range tests {
		if got := a.PoolContains(tt.pool, addrs(tt.ips...)); got != tt.want {
			t.Errorf("PoolContains(%s, %v) = %v, want %v", tt.pool, tt.ips, got, tt.want)
		}
		if tt.pool == "missing" {
			continue
		}
		if pool, ok := a.PoolFor(addrs(tt.ips...)); ok != tt.want || (ok && pool != tt.pool) {
			t.Errorf("PoolFor(%v) = %q, %v; want %q, %v", tt.ips, pool, ok, tt.pool, tt.want)
		}
	}
}

// TestAssignOrphanKeepsItsPool: after a restart, an IP a pool edit left
// outside its pool is recorded as that pool's orphan, as it was before the
// restart, and a Service that names the pool keeps it.
func TestAssignOrphanKeepsItsPool(t *testing.T) {
	a := newAlloc(t, mkPool("edit", []string{"203.0.113.32/27"}, manual()))
	named := mkReq("d/named", inPool("edit"))
	if pool, err := a.Assign(named, addrs("203.0.113.1")); err != nil || pool != "edit" {
		t.Fatalf("Assign of an orphan = %q, %v; want it recorded in pool edit", pool, err)
	}
	if got := mustAllocate(t, a, named); got.IPs[0].String() != "203.0.113.1" || got.Pool != "edit" {
		t.Errorf("Allocate of an orphan that names its pool = %v, want 203.0.113.1 kept", got)
	}
	if users, orphans := a.Users("edit"); users != 1 || orphans != 1 {
		t.Errorf("Users = %d, %d; want 1 user, 1 orphan", users, orphans)
	}
	// Without a pool to attribute it to, it is an orphan of no pool, kept
	// all the same.
	plain := mkReq("d/plain")
	if pool, err := a.Assign(plain, addrs("203.0.113.2")); err != nil || pool != "" {
		t.Fatalf("Assign = %q, %v; want no pool", pool, err)
	}
	if got := mustAllocate(t, a, plain); got.IPs[0].String() != "203.0.113.2" {
		t.Errorf("Allocate = %v, want 203.0.113.2 kept", got)
	}
}

// TestAllocateRetainingKeepsWhatTheStatusShows: a Service that moves off
// IPs its status still shows keeps them taken until they are released, so
// that no other Service is given them meanwhile; shared as before.
func TestAllocateRetainingKeepsWhatTheStatusShows(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"), mkPool("q", []string{"203.0.113.0/30"}, manual()))
	web := mustAllocate(t, a, mkReq("d/web", sharing("k", tcp(80))))
	mustAllocate(t, a, mkReq("d/dns", sharing("k", tcp(53)))) // shares web's IP
	shown := web.IPs
	moved, err := a.AllocateRetaining(mkReq("d/web", sharing("k", tcp(80)), inPool("q")), shown)
	if err != nil || moved.Pool != "q" {
		t.Fatalf("move to q = %v, %v", moved, err)
	}
	if got := a.Retained("d/web"); !SameIPs(got, shown) {
		t.Fatalf("retained %v, want %v", got, shown)
	}
	// Nobody new gets the retained IP...
	if other := mustAllocate(t, a, mkReq("d/other")); SameIPs(other.IPs, shown) {
		t.Errorf("%v given to another Service while a status shows it", other.IPs)
	}
	// ...but the Service that shares it keeps it: the retention shares as
	// web did.
	if dns := mustAllocate(t, a, mkReq("d/dns", sharing("k", tcp(53)))); !SameIPs(dns.IPs, shown) {
		t.Errorf("dns moved to %v", dns.IPs)
	}
	// A second move before the status changed keeps the first IPs retained.
	if _, err := a.AllocateRetaining(mkReq("d/web", sharing("k", tcp(80))), shown); err != nil {
		t.Fatal(err)
	}
	if got := a.Retained("d/web"); !SameIPs(got, shown) {
		t.Errorf("after a second move, retained %v, want %v", got, shown)
	}
	if got := a.Orphans(); len(got) != 0 {
		t.Errorf("orphans = %v: a retention is not one", got)
	}
	a.ReleaseRetained("d/web")
	if got := a.Retained("d/web"); got != nil {
		t.Errorf("retained after release: %v", got)
	}
	if users, _ := a.Users("p"); users != 2 {
		t.Errorf("Users(p) = %d, want dns and other: web is in q now", users)
	}
	// Release frees the retention with the rest.
	if _, err := a.AllocateRetaining(mkReq("d/web", sharing("k", tcp(80)), inPool("q")), ips4(t, a, "d/web")); err != nil {
		t.Fatal(err)
	}
	a.Release("d/web")
	if got := a.Retained("d/web"); got != nil {
		t.Errorf("retained after Release: %v", got)
	}
}

func ips4(t *testing.T, a *Allocator, key string) []netip.Addr {
	t.Helper()
	got, ok := a.Lookup(key)
	if !ok {
		t.Fatalf("%s holds nothing", key)
	}
	return got.IPs
}
