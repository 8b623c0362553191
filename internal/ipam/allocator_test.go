package ipam

import (
	"errors"
	"go4.org/netipx"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestAssign(t *testing.T) {
	p := newPool("p", "198.51.100.0/24")
	tests := []struct {
		name     string
		before   map[string][]string // key → IPs assigned first
		req      Request
		ips      []string
		wantPool string
		wantErr  error
		wantMsg  string
	}{
		{name: "in a pool", req: mkReq("d/w"), ips: []string{"198.51.100.9"}, wantPool: "p"},
		{name: "outside every pool", req: mkReq("d/w"), ips: []string{"192.0.2.9"}, wantPool: ""},
		{name: "in pinned pool, not matching", req: mkReq("x/w"), ips: []string{"203.0.113.1"}, wantPool: "pin"},
		{name: "held by other", before: map[string][]string{"d/a": {"198.51.100.9"}}, req: mkReq("d/w"),
			ips: []string{"198.51.100.9"}, wantErr: ErrIPInUse, wantMsg: "IP 198.51.100.9 is in use by d/a"},
		{name: "same key twice", before: map[string][]string{"d/w": {"198.51.100.9"}}, req: mkReq("d/w"),
			ips: []string{"198.51.100.10"}, wantPool: "p"},
		{name: "two of a family", req: mkReq("d/w"), ips: []string{"198.51.100.9", "198.51.100.10"}, wantErr: ErrInvalidRequest},
		{name: "none", req: mkReq("d/w"), wantErr: ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, p, mkPool("pin", []string{"203.0.113.0/24"}, namespaces("prod"), manual()))
			for k, ips := range tt.before {
				if _, err := a.Assign(mkReq(k), addrs(ips...)); err != nil {
					t.Fatal(err)
				}
			}
			pool, err := a.Assign(tt.req, addrs(tt.ips...))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Assign = %v, want %v %q", err, tt.wantErr, tt.wantMsg)
				}
				return
			}
			if err != nil || pool != tt.wantPool {
				t.Fatalf("Assign = %q, %v; want %q", pool, err, tt.wantPool)
			}
			got, _ := a.Lookup(tt.req.Key)
			if !slices.Equal(ipStrings(got.IPs), tt.ips) {
				t.Errorf("Lookup = %v, want %v", got.IPs, tt.ips)
			}
		})
	}
}

func TestAssignThenAllocateKeepsIP(t *testing.T) {
	a := newAlloc(t, mkPool("pin", []string{"203.0.113.0/24"}, namespaces("prod")), newPool("p", "198.51.100.0/24"))
	r := mkReq("dev/w")
	if _, err := a.Assign(r, addrs("203.0.113.77")); err != nil {
		t.Fatal(err)
	}
	got := mustAllocate(t, a, r)
	if got.Pool != "pin" || got.IPs[0].String() != "203.0.113.77" {
		t.Errorf("Allocate after Assign = %v, want the assigned IP kept", got)
	}
	next := mustAllocate(t, a, mkReq("dev/x"))
	if next.IPs[0].String() != "198.51.100.0" {
		t.Errorf("fresh allocation = %v", next)
	}
}

func TestAllocateIdempotentAndAtomic(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"), newPool("q", "203.0.113.0/30"))
	r := mkReq("d/w")
	first := mustAllocate(t, a, r)
	for range 3 {
		if got := mustAllocate(t, a, r); !slices.Equal(got.IPs, first.IPs) || got.Pool != first.Pool {
			t.Fatalf("Allocate not idempotent: %v then %v", first, got)
		}
	}
	// A request change that cannot be served leaves the old assignment.
	if _, err := a.Allocate(mkReq("d/w", inPool("nope"))); !errors.Is(err, ErrUnknownPool) {
		t.Fatalf("err = %v", err)
	}
	if got, ok := a.Lookup("d/w"); !ok || !slices.Equal(got.IPs, first.IPs) {
		t.Fatalf("failed Allocate changed state: %v %v", got, ok)
	}
	// A request change that can be served moves the IP.
	moved := mustAllocate(t, a, mkReq("d/w", inPool("q")))
	if moved.Pool != "q" {
		t.Fatalf("moved = %v", moved)
	}
	if st, _ := a.PoolStats("p"); st.IPv4.InUse.Sign() != 0 {
		t.Errorf("old IP not freed")
	}
	a.Release("d/w")
	a.Release("d/w")
	if _, ok := a.Lookup("d/w"); ok {
		t.Errorf("Lookup after Release")
	}
}

func TestSetPoolsKeepsAssignments(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"), newPool("q", "203.0.113.0/30"))
	w := mustAllocate(t, a, mkReq("d/w"))
	x := mustAllocate(t, a, mkReq("d/x", inPool("q")))
	// p loses its range, q is renamed r.
	if err := a.SetPools([]Pool{newPool("p", "198.51.100.8/30"), newPool("r", "203.0.113.0/30")}); err != nil {
		t.Fatal(err)
	}
	if got := a.Orphans(); !slices.Equal(got, []string{"d/w"}) {
		t.Errorf("Orphans = %v, want [d/w]", got)
	}
	if users, orphans := a.Users("p"); users != 1 || orphans != 1 {
		t.Errorf("Users(p) = %d, %d orphans; want 1, 1", users, orphans)
	}
	if users, orphans := a.Users("r"); users != 1 || orphans != 0 {
		t.Errorf("Users(r) = %d, %d orphans; want 1, 0", users, orphans)
	}
	if got, _ := a.Lookup("d/w"); !slices.Equal(got.IPs, w.IPs) {
		t.Errorf("orphan lost its IP: %v", got)
	}
	if got, _ := a.Lookup("d/x"); got.Pool != "r" || !slices.Equal(got.IPs, x.IPs) {
		t.Errorf("d/x = %v, want its IP, rehomed to pool r", got)
	}
	if got := mustAllocate(t, a, mkReq("d/w")); !slices.Equal(got.IPs, w.IPs) {
		t.Errorf("orphan moved on Allocate: %v", got)
	}
	// The range comes back: the orphan is adopted, its IP is not free.
	if err := a.SetPools([]Pool{newPool("p", "198.51.100.0/30")}); err != nil {
		t.Fatal(err)
	}
	if got := a.Orphans(); len(got) != 1 || got[0] != "d/x" {
		t.Errorf("Orphans = %v", got)
	}
	if got := mustAllocate(t, a, mkReq("d/y")); got.IPs[0] == w.IPs[0] {
		t.Errorf("double allocation of %v", got.IPs[0])
	}
}

func TestSetPoolsRejectsBadInput(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"))
	for _, pools := range [][]Pool{
		{newPool("", "198.51.100.0/30")},
		{newPool("x", "198.51.100.0/30"), newPool("x", "203.0.113.0/30")},
		{{Name: "bad", Ranges: []netipx.IPRange{{}}}},
	} {
		if err := a.SetPools(pools); !errors.Is(err, ErrInvalidPool) {
			t.Errorf("SetPools(%v) = %v, want ErrInvalidPool", pools, err)
		}
	}
	if _, ok := a.PoolStats("p"); !ok {
		t.Errorf("failed SetPools changed the pools")
	}
}

func TestOverlappingPoolsNeverDoubleAllocate(t *testing.T) {
	a := newAlloc(t, newPool("a", "198.51.100.0/30"), newPool("b", "198.51.100.2/31"))
	seen := map[netip.Addr]string{}
	for _, k := range []string{"d/1", "d/2", "d/3", "d/4"} {
		got := mustAllocate(t, a, mkReq(k))
		if other, dup := seen[got.IPs[0]]; dup {
			t.Fatalf("%v given to %s and %s", got.IPs[0], other, k)
		}
		seen[got.IPs[0]] = k
	}
	if _, err := a.Allocate(mkReq("d/5")); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("err = %v", err)
	}
	if _, err := a.Allocate(mkReq("d/6", inPool("b"))); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("b gave away an IP held through a: %v", err)
	}
	a.Release("d/4")
	if got := mustAllocate(t, a, mkReq("d/6", inPool("b"))); got.IPs[0].String() != "198.51.100.3" {
		t.Fatalf("got %v", got)
	}
}
