package ipam

import "testing"

func TestSelectFamilies(t *testing.T) {
	dual := newPool("dual", "198.51.100.0/30", "2001:db8::/126")
	v4 := newPool("v4", "203.0.113.0/30")
	v6 := newPool("v6", "2001:db8:1::/126")
	v4hi := mkPool("v4hi", []string{"203.0.113.0/30"}, priority(1))
	runAllocCases(t, []allocCase{
		{name: "single stack defaults to IPv4", pools: []Pool{dual}, req: mkReq("d/w"),
			wantPool: "dual", wantIPs: []string{"198.51.100.0"}},
		{name: "single stack IPv6", pools: []Pool{dual}, req: mkReq("d/w", families(SingleStack, IPv6)),
			wantPool: "dual", wantIPs: []string{"2001:db8::"}},
		{name: "single stack IPv6 skips IPv4-only pool", pools: []Pool{v4hi, v6}, req: mkReq("d/w", families(SingleStack, IPv6)),
			wantPool: "v6", wantIPs: []string{"2001:db8:1::"}},
		{name: "single stack family nowhere", pools: []Pool{v4}, req: mkReq("d/w", families(SingleStack, IPv6)),
			wantErr: ErrFamilyUnavailable, wantMsg: `pool "v4" has no IPv6 addresses`},
		{name: "require dual stack", pools: []Pool{dual}, req: mkReq("d/w", families(RequireDualStack, IPv6, IPv4)),
			wantPool: "dual", wantIPs: []string{"2001:db8::", "198.51.100.0"}},
		{name: "require dual stack from one pool only", pools: []Pool{v4, v6}, req: mkReq("d/w", families(RequireDualStack, IPv4, IPv6)),
			wantErr: ErrDualStackImpossible, wantMsg: "requires dual-stack"},
		{name: "require dual stack, one family exhausted", pools: []Pool{newPool("d1", "198.51.100.1/32", "2001:db8::1/128")},
			before: []Request{mkReq("d/x", families(SingleStack, IPv6))}, req: mkReq("d/w", families(RequireDualStack, IPv4, IPv6)),
			wantErr: ErrPoolExhausted, wantMsg: "IPv6: 0 of 1 available"},
		{name: "prefer dual stack gets both", pools: []Pool{dual}, req: mkReq("d/w", families(PreferDualStack, IPv4, IPv6)),
			wantPool: "dual", wantIPs: []string{"198.51.100.0", "2001:db8::"}},
		{name: "prefer dual stack prefers a dual pool over a higher one", pools: []Pool{v4hi, dual},
			req: mkReq("d/w", families(PreferDualStack, IPv4, IPv6)), wantPool: "dual", wantIPs: []string{"198.51.100.0", "2001:db8::"}},
		{name: "prefer dual stack falls back to primary", pools: []Pool{v6, v4}, req: mkReq("d/w", families(PreferDualStack, IPv4, IPv6)),
			wantPool: "v4", wantIPs: []string{"203.0.113.0"}},
		{name: "prefer dual stack falls back to secondary", pools: []Pool{v6}, req: mkReq("d/w", families(PreferDualStack, IPv4, IPv6)),
			wantPool: "v6", wantIPs: []string{"2001:db8:1::"}},
		{name: "prefer dual stack with one family is single stack", pools: []Pool{dual}, req: mkReq("d/w", families(PreferDualStack, IPv6)),
			wantPool: "dual", wantIPs: []string{"2001:db8::"}},
		{name: "prefer dual stack, nothing", pools: []Pool{newPool("e", "198.51.100.1/32")},
			before: []Request{mkReq("d/x")}, req: mkReq("d/w", families(PreferDualStack)), wantErr: ErrPoolExhausted},
	})
}

func TestPreferDualStackGainsSecondFamily(t *testing.T) {
	a := newAlloc(t, newPool("p", "198.51.100.0/30"))
	r := mkReq("d/w", families(PreferDualStack, IPv4, IPv6))
	got := mustAllocate(t, a, r)
	if len(got.IPs) != 1 {
		t.Fatalf("got %v, want one IPv4", got.IPs)
	}
	if err := a.SetPools([]Pool{newPool("p", "198.51.100.0/30", "2001:db8::/126")}); err != nil {
		t.Fatal(err)
	}
	got2 := mustAllocate(t, a, r)
	if want := []string{"198.51.100.0", "2001:db8::"}; len(got2.IPs) != 2 || got2.IPs[0] != got.IPs[0] || got2.IPs[1].String() != want[1] {
		t.Fatalf("got %v, want %v (IPv4 kept, IPv6 added)", got2.IPs, want)
	}
}
