package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var documentation = []netip.Prefix{
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func inDocumentation(p netip.Prefix) bool {
	for _, d := range documentation {
		if d.Bits() <= p.Bits() && d.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func TestPlanUsesOnlyDocumentationRanges(t *testing.T) {
	prefixes := []netip.Prefix{LANPrefix4, LANPrefix6, L2Pool4, L2Pool6, L2DualPool4, L2DualPool6, Eth1Pool4, Eth1Pool6, BGPPool4, BGPPool6, BenchL2Pool6, BenchBGPPool6,
		UpstreamPrefix4, UpstreamPrefix6, APILinkPrefix, ClusterIPRange4, ClusterIPRange6, LAN2Prefix4, LAN2Prefix6}
	addrs := []netip.Addr{RouterLAN4, RouterLAN6, RouterUpstream4, RouterUpstream6, Client4, Client6,
		UpstreamClient4, UpstreamClient6, BridgeLAN4, APIServerAddr, APILinkLab, Client2v4, Client2v6}
	for i := 1; i <= MaxNodes; i++ {
		v4, v6 := NodeAddrs(i)
		w4, w6 := NodeLAN2Addrs(i)
		addrs = append(addrs, v4, v6, w4, w6)
		if !LAN2Prefix4.Contains(w4) || !LAN2Prefix6.Contains(w6) || w4 == Client2v4 || w6 == Client2v6 {
			t.Errorf("node %d's second-LAN addresses %s %s are off the plan", i, w4, w6)
		}
	}
	for _, a := range addrs {
		prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	for _, p := range prefixes {
		if !inDocumentation(p) {
			t.Errorf("%s is outside the documentation ranges", p)
		}
	}
}

func TestPlanHasNoOverlaps(t *testing.T) {
	// The L2 pool lies inside the LAN on purpose (it is on-link); nothing
	// else may overlap.
	distinct := []netip.Prefix{LANPrefix4, BGPPool4, UpstreamPrefix4, APILinkPrefix, ClusterIPRange4, LAN2Prefix4,
		LANPrefix6, BGPPool6, UpstreamPrefix6, ClusterIPRange6, LAN2Prefix6}
	for i, a := range distinct {
		for _, b := range distinct[i+1:] {
			if a.Overlaps(b) {
				t.Errorf("%s overlaps %s", a, b)
			}
		}
	}
	if !LANPrefix4.Contains(L2Pool4.Addr()) || !LANPrefix6.Contains(L2Pool6.Addr()) ||
		!LANPrefix4.Contains(L2DualPool4.Addr()) || !LANPrefix6.Contains(L2DualPool6.Addr()) || L2DualPool4.Overlaps(L2Pool4) ||
		!LANPrefix4.Contains(Eth1Pool4.Addr()) || Eth1Pool4.Overlaps(L2Pool4) || Eth1Pool4.Overlaps(L2DualPool4) ||
		!LANPrefix6.Contains(Eth1Pool6.Addr()) || Eth1Pool6.Overlaps(L2Pool6) || Eth1Pool6.Overlaps(L2DualPool6) ||
		!LANPrefix6.Contains(BenchL2Pool6.Addr()) || BenchL2Pool6.Overlaps(L2Pool6) || BenchL2Pool6.Overlaps(L2DualPool6) || BenchL2Pool6.Overlaps(Eth1Pool6) ||
		BenchBGPPool6.Overlaps(BGPPool6) || BenchBGPPool6.Overlaps(LANPrefix6) {
		t.Errorf("the L2 pools %s, %s must be on the LAN %s, %s", L2Pool4, L2Pool6, LANPrefix4, LANPrefix6)
	}
	for i := 1; i <= MaxNodes; i++ {
		v4, v6 := NodeAddrs(i)
		for _, a := range []netip.Addr{v4, v6} {
			for _, p := range ServicePrefixes() {
				if p.Contains(a) {
					t.Errorf("node %d address %s is in pool %s", i, a, p)
				}
			}
			if a == Client4 || a == Client6 || a == BridgeLAN4 || a == RouterLAN4 || a == RouterLAN6 {
				t.Errorf("node %d address %s is taken", i, a)
			}
		}
	}
}

func TestNodeAddrs(t *testing.T) {
	v4, v6 := NodeAddrs(1)
	if v4.String() != "198.51.100.11" || v6.String() != "2001:db8:1::11" {
		t.Errorf("node 1 = %s, %s; want 198.51.100.11, 2001:db8:1::11", v4, v6)
	}
	v4, v6 = NodeAddrs(3)
	if v4.String() != "198.51.100.13" || v6.String() != "2001:db8:1::13" {
		t.Errorf("node 3 = %s, %s; want 198.51.100.13, 2001:db8:1::13", v4, v6)
	}
}

func TestRouterConfigNamesEveryNode(t *testing.T) {
	conf := routerConfig(3)
	for _, want := range []string{"router bgp 64512", "remote-as 64513", "neighbor 198.51.100.13 peer-group nodes4", "neighbor 2001:db8:1::12 peer-group nodes6"} {
		if !strings.Contains(conf, want) {
			t.Errorf("router config lacks %q:\n%s", want, conf)
		}
	}
}

// privateRange matches RFC 1918 addresses; the lab must never use them.
var privateRange = regexp.MustCompile(`\b(10\.\d{1,3}\.\d{1,3}\.\d{1,3}|172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3})\b`)

func TestNoPrivateRangesInE2ETest(t *testing.T) {
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := privateRange.Find(data); m != nil {
			t.Errorf("%s mentions a private address %s", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
