package ipam

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSharing(t *testing.T) {
	p := newPool("p", "198.51.100.0/29")
	web := mkReq("d/web", sharing("k", tcp(80)))
	webAt := func(opts ...reqOpt) Request {
		return mkReq("d/web", append([]reqOpt{wantIPs("198.51.100.3")}, opts...)...)
	}
	runAllocCases(t, []allocCase{
		{name: "same key, other port, reuses IP", pools: []Pool{p}, before: []Request{web},
			req: mkReq("d/dns", sharing("k", udp(53))), wantPool: "p", wantIPs: []string{"198.51.100.0"}},
		{name: "same key, requested IP", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)))},
			req: mkReq("d/dns", sharing("k", udp(53)), wantIPs("198.51.100.3")), wantPool: "p", wantIPs: []string{"198.51.100.3"}},
		{name: "same key, same port number, other protocol", pools: []Pool{p}, before: []Request{web},
			req: mkReq("d/q", sharing("k", udp(80))), wantPool: "p", wantIPs: []string{"198.51.100.0"}},
		{name: "port clash gets a fresh IP", pools: []Pool{p}, before: []Request{web},
			req: mkReq("d/web2", sharing("k", tcp(80))), wantPool: "p", wantIPs: []string{"198.51.100.1"}},
		{name: "port clash on requested IP", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)))},
			req:     mkReq("d/web2", sharing("k", Port{"tcp", 80}), wantIPs("198.51.100.3")),
			wantErr: ErrSharingRefused, wantMsg: "port clash tcp/80 with d/web"},
		{name: "different key on requested IP", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)))},
			req:     mkReq("d/dns", sharing("other", udp(53)), wantIPs("198.51.100.3")),
			wantErr: ErrSharingRefused, wantMsg: `sharing key "other" differs from "k"`},
		{name: "no key on requested IP", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)))},
			req:     mkReq("d/dns", wantIPs("198.51.100.3")),
			wantErr: ErrIPInUse, wantMsg: "requested IP 198.51.100.3 is in use by d/web"},
		{name: "holder without key", pools: []Pool{p}, before: []Request{webAt()},
			req:     mkReq("d/dns", sharing("k", udp(53)), wantIPs("198.51.100.3")),
			wantErr: ErrIPInUse, wantMsg: "which does not allow sharing"},
		{name: "local, same backend", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)), local("app=x"))},
			req: mkReq("d/dns", sharing("k", udp(53)), local("app=x"), wantIPs("198.51.100.3")), wantPool: "p", wantIPs: []string{"198.51.100.3"}},
		{name: "local, other backend", pools: []Pool{p}, before: []Request{webAt(sharing("k", tcp(80)), local("app=x"))},
			req:     mkReq("d/dns", sharing("k", udp(53)), backend("app=y"), wantIPs("198.51.100.3")),
			wantErr: ErrSharingRefused, wantMsg: "backend differs from d/web"},
		{name: "local, other backend, auto gets fresh IP", pools: []Pool{p}, before: []Request{mkReq("d/web", sharing("k", tcp(80)), local("a"))},
			req: mkReq("d/dns", sharing("k", udp(53)), local("b")), wantPool: "p", wantIPs: []string{"198.51.100.1"}},
		{name: "cluster policy, other backends", pools: []Pool{p}, before: []Request{mkReq("d/web", sharing("k", tcp(80)), backend("a"))},
			req: mkReq("d/dns", sharing("k", udp(53)), backend("b")), wantPool: "p", wantIPs: []string{"198.51.100.0"}},
		{name: "shared IP outside eligible pools is not reused", pools: []Pool{p, mkPool("q", []string{"203.0.113.0/30"}, priority(1))},
			before: []Request{mkReq("d/web", sharing("k", tcp(80)), inPool("p"))},
			req:    mkReq("d/dns", sharing("k", udp(53))), wantPool: "q", wantIPs: []string{"203.0.113.0"}},
	})
}

func TestSharedIPCountsOnce(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"))
	x := mustAllocate(t, a, mkReq("d/a", sharing("k", tcp(80))))
	y := mustAllocate(t, a, mkReq("d/b", sharing("k", tcp(443))))
	if !slices.Equal(x.IPs, y.IPs) {
		t.Fatalf("not shared: %v %v", x.IPs, y.IPs)
	}
	if h := a.Holders(x.IPs[0]); !slices.Equal(h, []string{"d/a", "d/b"}) {
		t.Errorf("Holders = %v", h)
	}
	st, _ := a.PoolStats("p")
	if st.IPv4.InUse.Int64() != 1 || st.IPv4.Available.Int64() != 3 {
		t.Errorf("stats = %v in use, %v available; want 1, 3", st.IPv4.InUse, st.IPv4.Available)
	}
	a.Release("d/a")
	if st, _ := a.PoolStats("p"); st.IPv4.InUse.Int64() != 1 {
		t.Errorf("IP freed while still held by d/b")
	}
	a.Release("d/b")
	if st, _ := a.PoolStats("p"); st.IPv4.InUse.Int64() != 0 {
		t.Errorf("IP not freed")
	}
}

func TestSharingChangeMovesOnlyWhenNeeded(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"))
	mustAllocate(t, a, mkReq("d/a", sharing("k", tcp(80))))
	b := mustAllocate(t, a, mkReq("d/b", sharing("k", tcp(443))))
	// d/b now clashes with d/a on port 80: it must move.
	b2 := mustAllocate(t, a, mkReq("d/b", sharing("k", tcp(80))))
	if slices.Equal(b.IPs, b2.IPs) {
		t.Fatalf("d/b kept clashing IP %v", b2.IPs)
	}
	// A port change that still fits keeps the IP.
	b3 := mustAllocate(t, a, mkReq("d/b", sharing("k", tcp(8080))))
	if !slices.Equal(b2.IPs, b3.IPs) {
		t.Fatalf("d/b moved from %v to %v without need", b2.IPs, b3.IPs)
	}
	var err error = canShare("IP x", share{key: "k", ports: []Port{tcp(80)}}, "d/a", share{key: "k", ports: []Port{{"tcp", 80}}})
	if !errors.Is(err, ErrSharingRefused) || !errors.Is(err, ErrIPInUse) || !strings.Contains(err.Error(), "port clash tcp/80 with d/a") {
		t.Errorf("canShare = %v", err)
	}
}
