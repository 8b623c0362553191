package ipam

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// allocCase allocates before (each must succeed), then req, and checks the
// outcome.
type allocCase struct {
	name     string
	pools    []Pool
	before   []Request
	req      Request
	wantPool string
	wantIPs  []string
	wantErr  error
	wantMsg  string // substring of the error message
}

func runAllocCases(t *testing.T, cases []allocCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			a := newAlloc(t, tt.pools...)
			for _, r := range tt.before {
				mustAllocate(t, a, r)
			}
			got, err := a.Allocate(tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Allocate = %v, %v; want error %v", got, err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not contain %q", err, tt.wantMsg)
				}
				if _, ok := a.Lookup(tt.req.Key); ok {
					t.Errorf("failed request %s holds IPs", tt.req.Key)
				}
				return
			}
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			if got.Pool != tt.wantPool || !slices.Equal(ipStrings(got.IPs), tt.wantIPs) {
				t.Errorf("Allocate = %s %v, want %s %v", got.Pool, got.IPs, tt.wantPool, tt.wantIPs)
			}
		})
	}
}

func TestSelectNamedPool(t *testing.T) {
	blue := newPool("blue", "198.51.100.0/30")
	green := newPool("green", "203.0.113.0/30")
	off := mkPool("off", []string{"203.0.113.8/30"}, manual())
	pinned := mkPool("pinned", []string{"203.0.113.16/30"}, namespaces("prod"))
	runAllocCases(t, []allocCase{
		{name: "named pool is used", pools: []Pool{blue, green}, req: mkReq("default/web", inPool("green")),
			wantPool: "green", wantIPs: []string{"203.0.113.0"}},
		{name: "unknown pool", pools: []Pool{blue}, req: mkReq("default/web", inPool("pink")),
			wantErr: ErrUnknownPool, wantMsg: `pool "pink" does not exist`},
		{name: "autoAssign=false pool by name", pools: []Pool{blue, off}, req: mkReq("default/web", inPool("off")),
			wantPool: "off", wantIPs: []string{"203.0.113.8"}},
		{name: "named pool exhausted, no fallback", pools: []Pool{mkPool("tiny", []string{"198.51.100.1/32"}), green},
			before: []Request{mkReq("default/a", inPool("tiny"))}, req: mkReq("default/web", inPool("tiny")),
			wantErr: ErrPoolExhausted, wantMsg: `pool "tiny" is exhausted (IPv4: 0 of 1 available)`},
		{name: "named pinned pool refuses other namespace", pools: []Pool{pinned}, req: mkReq("dev/web", inPool("pinned")),
			wantErr: ErrPoolNotAllowed, wantMsg: `pool "pinned" does not accept service dev/web`},
		{name: "named pinned pool accepts its namespace", pools: []Pool{pinned}, req: mkReq("prod/web", inPool("pinned")),
			wantPool: "pinned", wantIPs: []string{"203.0.113.16"}},
		{name: "named pool lacks family", pools: []Pool{blue}, req: mkReq("default/web", inPool("blue"), families(SingleStack, IPv6)),
			wantErr: ErrFamilyUnavailable, wantMsg: `pool "blue" has no IPv6 addresses`},
	})
}

func TestSelectRequestedIPs(t *testing.T) {
	blue := newPool("blue", "198.51.100.0/24", "2001:db8::/120")
	off := mkPool("off", []string{"203.0.113.0/24"}, manual())
	pinned := mkPool("pinned", []string{"192.0.2.0/24"}, svcSelector("tier", "gold"))
	runAllocCases(t, []allocCase{
		{name: "requested IP in a pool", pools: []Pool{blue}, req: mkReq("default/web", wantIPs("198.51.100.7")),
			wantPool: "blue", wantIPs: []string{"198.51.100.7"}},
		{name: "requested IP outside pools", pools: []Pool{blue}, req: mkReq("default/web", wantIPs("192.0.2.7")),
			wantErr: ErrOutsidePools, wantMsg: "requested IP 192.0.2.7 is not in any pool"},
		{name: "requested IP in autoAssign=false pool", pools: []Pool{blue, off}, req: mkReq("default/web", wantIPs("203.0.113.9")),
			wantPool: "off", wantIPs: []string{"203.0.113.9"}},
		{name: "requested IP in named pool", pools: []Pool{blue, off}, req: mkReq("default/web", inPool("off"), wantIPs("203.0.113.9")),
			wantPool: "off", wantIPs: []string{"203.0.113.9"}},
		{name: "requested IP not in named pool", pools: []Pool{blue, off}, req: mkReq("default/web", inPool("off"), wantIPs("198.51.100.9")),
			wantErr: ErrNotInNamedPool, wantMsg: `requested IP 198.51.100.9 is not in pool "off"`},
		{name: "requested IP held by another service", pools: []Pool{blue},
			before: []Request{mkReq("default/web", wantIPs("198.51.100.7"))}, req: mkReq("default/db", wantIPs("198.51.100.7")),
			wantErr: ErrIPInUse, wantMsg: "requested IP 198.51.100.7 is in use by default/web"},
		{name: "requested IP held by auto-assigned service", pools: []Pool{blue},
			before: []Request{mkReq("default/web")}, req: mkReq("default/db", wantIPs("198.51.100.0")),
			wantErr: ErrIPInUse, wantMsg: "in use by default/web"},
		{name: "requested IP in pinned pool, not matching", pools: []Pool{pinned}, req: mkReq("default/web", wantIPs("192.0.2.5")),
			wantErr: ErrPoolNotAllowed, wantMsg: `pool "pinned"`},
		{name: "requested IP in pinned pool, matching", pools: []Pool{pinned}, req: mkReq("default/web", wantIPs("192.0.2.5"), svcLabel("tier", "gold")),
			wantPool: "pinned", wantIPs: []string{"192.0.2.5"}},
		{name: "requested dual-stack pair", pools: []Pool{blue},
			req:      mkReq("default/web", wantIPs("2001:db8::5", "198.51.100.5"), families(RequireDualStack, IPv4, IPv6)),
			wantPool: "blue", wantIPs: []string{"198.51.100.5", "2001:db8::5"}},
		{name: "requested IPs in two pools", pools: []Pool{blue, off},
			req:     mkReq("default/web", wantIPs("203.0.113.5", "2001:db8::5"), families(RequireDualStack)),
			wantErr: ErrOutsidePools, wantMsg: "not in a single pool"},
		{name: "requested buggy IP in avoidBuggyIPs pool", pools: []Pool{mkPool("b", []string{"198.51.100.0/24"}, avoidBuggy())},
			req: mkReq("default/web", wantIPs("198.51.100.255")), wantErr: ErrOutsidePools},
		{name: "two requested IPs for single stack", pools: []Pool{blue},
			req: mkReq("default/web", wantIPs("198.51.100.5", "2001:db8::5")), wantErr: ErrInvalidRequest},
		{name: "one requested IP for RequireDualStack", pools: []Pool{blue},
			req: mkReq("default/web", wantIPs("198.51.100.5"), families(RequireDualStack)), wantErr: ErrDualStackImpossible},
		{name: "requested IP of the wrong family", pools: []Pool{blue},
			req: mkReq("default/web", wantIPs("2001:db8::5"), families(SingleStack, IPv4)), wantErr: ErrInvalidRequest},
	})
}

func TestSelectAutoAssign(t *testing.T) {
	a := mkPool("a", []string{"198.51.100.0/30"})
	b := mkPool("b", []string{"198.51.100.8/30"})
	p1 := mkPool("p1", []string{"198.51.100.16/30"}, priority(1))
	p2 := mkPool("p2", []string{"198.51.100.24/30"}, priority(2))
	off := mkPool("off", []string{"198.51.100.32/30"}, manual())
	prod := mkPool("prod", []string{"198.51.100.40/30"}, namespaces("prod"))
	prodSel := mkPool("prodsel", []string{"198.51.100.48/30"}, nsSelector("env", "prod"))
	gold := mkPool("gold", []string{"198.51.100.56/30"}, svcSelector("tier", "gold"))
	goldProd := mkPool("goldprod", []string{"198.51.100.64/30"}, namespaces("prod"), svcSelector("tier", "gold"))
	tiny := mkPool("tiny", []string{"198.51.100.100/32"}, priority(1))
	runAllocCases(t, []allocCase{
		{name: "ties by name", pools: []Pool{b, a}, req: mkReq("default/web"), wantPool: "a", wantIPs: []string{"198.51.100.0"}},
		{name: "priority before unset", pools: []Pool{a, p2}, req: mkReq("default/web"), wantPool: "p2", wantIPs: []string{"198.51.100.24"}},
		{name: "lower priority first", pools: []Pool{p2, p1, a}, req: mkReq("default/web"), wantPool: "p1", wantIPs: []string{"198.51.100.16"}},
		{name: "autoAssign=false never auto", pools: []Pool{off}, req: mkReq("default/web"),
			wantErr: ErrNoPoolMatches, wantMsg: "no auto-assign pool accepts service default/web"},
		{name: "autoAssign=false skipped", pools: []Pool{off, b}, req: mkReq("default/web"), wantPool: "b", wantIPs: []string{"198.51.100.8"}},
		{name: "pinned namespace first", pools: []Pool{p1, prod}, req: mkReq("prod/web"), wantPool: "prod", wantIPs: []string{"198.51.100.40"}},
		{name: "pinned namespace skipped for others", pools: []Pool{prod, b}, req: mkReq("dev/web"), wantPool: "b", wantIPs: []string{"198.51.100.8"}},
		{name: "only pinned pools, no match", pools: []Pool{prod}, req: mkReq("dev/web"), wantErr: ErrNoPoolMatches},
		{name: "namespace selector", pools: []Pool{a, prodSel}, req: mkReq("x/web", nsLabel("env", "prod")), wantPool: "prodsel", wantIPs: []string{"198.51.100.48"}},
		{name: "namespace selector, no match", pools: []Pool{a, prodSel}, req: mkReq("x/web", nsLabel("env", "dev")), wantPool: "a", wantIPs: []string{"198.51.100.0"}},
		{name: "service selector", pools: []Pool{a, gold}, req: mkReq("x/web", svcLabel("tier", "gold")), wantPool: "gold", wantIPs: []string{"198.51.100.56"}},
		{name: "namespace and service selector both needed", pools: []Pool{a, goldProd}, req: mkReq("prod/web"), wantPool: "a", wantIPs: []string{"198.51.100.0"}},
		{name: "namespace and service selector match", pools: []Pool{a, goldProd}, req: mkReq("prod/web", svcLabel("tier", "gold")),
			wantPool: "goldprod", wantIPs: []string{"198.51.100.64"}},
		{name: "pinned pools ordered by priority", pools: []Pool{gold, mkPool("gold1", []string{"198.51.100.72/30"}, svcSelector("tier", "gold"), priority(1))},
			req: mkReq("x/web", svcLabel("tier", "gold")), wantPool: "gold1", wantIPs: []string{"198.51.100.72"}},
		{name: "exhausted pool falls through", pools: []Pool{tiny, b}, before: []Request{mkReq("default/a")},
			req: mkReq("default/web"), wantPool: "b", wantIPs: []string{"198.51.100.8"}},
		{name: "all exhausted", pools: []Pool{tiny}, before: []Request{mkReq("default/a")},
			req: mkReq("default/web"), wantErr: ErrPoolExhausted, wantMsg: `pool "tiny" is exhausted (IPv4: 0 of 1 available)`},
		{name: "lowest free address", pools: []Pool{a}, before: []Request{mkReq("default/x"), mkReq("default/y")},
			req: mkReq("default/web"), wantPool: "a", wantIPs: []string{"198.51.100.2"}},
		{name: "avoid buggy IPs", pools: []Pool{mkPool("bug", []string{"198.51.100.255-198.51.101.1"}, avoidBuggy())},
			req: mkReq("default/web"), wantPool: "bug", wantIPs: []string{"198.51.101.1"}},
		{name: "avoid buggy IPs, only buggy", pools: []Pool{mkPool("bug", []string{"198.51.100.255-198.51.101.0"}, avoidBuggy())},
			req: mkReq("default/web"), wantErr: ErrPoolExhausted, wantMsg: "0 of 0 available"},
	})
}

func TestSelectPinningAppliesToSelectors(t *testing.T) {
	p := mkPool("p", nil, namespaces("a"), nsSelector("env", "prod"))
	for _, tt := range []struct {
		req  Request
		want bool
	}{
		{mkReq("a/x"), true},
		{mkReq("b/x", nsLabel("env", "prod")), true},
		{mkReq("b/x", nsLabel("env", "dev")), false},
		{mkReq("b/x"), false},
	} {
		if got := p.Allows(tt.req); got != tt.want {
			t.Errorf("Allows(%s %v) = %v, want %v", tt.req.Key, tt.req.NamespaceLabels, got, tt.want)
		}
	}
	if !mkPool("open", nil).Allows(mkReq("b/x")) || mkPool("open", nil).Pinned() {
		t.Errorf("a pool without pinning must allow everyone")
	}
}
