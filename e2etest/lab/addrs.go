package lab

import (
	"fmt"
	"net/netip"
)

// The lab's address plan. Every address is from a documentation range
// (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); config/samples uses the
// same pools.
//
//	node LAN (one bridge)   198.51.100.0/25     2001:db8:1::/64
//	  router                  .1                  ::1
//	  second router (GoBGP)   .2                  ::2   (Options.GoBGPRouter)
//	  node i (1-based)        .10+i               ::10+i (hex: ::11, ::12, ...)
//	  LAN client              .50                 ::50
//	  bridge namespace        .126 (gateway to the apiserver link only)
//	Layer 2 pool            198.51.100.64/27    2001:db8:1::100/120  (on-link: inside the LAN)
//	Layer 2 dual-stack pool 198.51.100.96/28    2001:db8:1:0:8000::/65 (on-link too)
//	eth1-only pool          198.51.100.120/30   2001:db8:1::fff0/124 (on the LAN's subnet, announced on eth1)
//	BGP pool                203.0.113.64/27     2001:db8:200::/120   (routed: only via BGP)
//	benchmark pools                             2001:db8:1:0:4000::/66 (Layer 2, on-link)
//	                                            2001:db8:210::/112     (BGP): room for thousands of Services
//	second LAN (eth1)       203.0.113.128/26    2001:db8:3::/64
//	  node i                  .130+i              ::10+i (as above)
//	  second-LAN client       .190                ::50
//	upstream LAN            203.0.113.0/26      2001:db8:2::/64
//	  router                  .1                  ::1
//	  upstream client         .10                 ::10
//	apiserver link          203.0.113.240/30: root end .241 (apiserver), lab end .242
//	cluster IPs (never routed) 198.51.100.128/25, 2001:db8:ffff::/108
//
// BGP: the router is AS 64512, every node AS 64513 (eBGP). The router has an
// explicit neighbor for every node address, IPv4 and IPv6, each carrying both
// address families, with TCP MD5 password BGPPassword. The second router,
// when there is one, is AS 64513 like the nodes (iBGP), with the same
// password (see gobgp.go).
var (
	LANPrefix4 = netip.MustParsePrefix("198.51.100.0/25")
	LANPrefix6 = netip.MustParsePrefix("2001:db8:1::/64")

	L2Pool4 = netip.MustParsePrefix("198.51.100.64/27")
	L2Pool6 = netip.MustParsePrefix("2001:db8:1::100/120")

	L2DualPool4 = netip.MustParsePrefix("198.51.100.96/28")
	L2DualPool6 = netip.MustParsePrefix("2001:db8:1:0:8000::/65")

	// Eth1Pool4 and Eth1Pool6 lie in the LAN's subnet, for an
	// L2Advertisement restricted to eth1: clients on the second LAN reach
	// them, clients on the LAN must not.
	Eth1Pool4 = netip.MustParsePrefix("198.51.100.120/30")
	Eth1Pool6 = netip.MustParsePrefix("2001:db8:1::fff0/124")

	// BenchL2Pool6 and BenchBGPPool6 hold the benchmarks' thousands of
	// (IPv6, for cluster IPs) Services: on the LAN, and routed.
	BenchL2Pool6  = netip.MustParsePrefix("2001:db8:1:0:4000::/66")
	BenchBGPPool6 = netip.MustParsePrefix("2001:db8:210::/112")

	BGPPool4 = netip.MustParsePrefix("203.0.113.64/27")
	BGPPool6 = netip.MustParsePrefix("2001:db8:200::/120")

	// LAN2Prefix4 and LAN2Prefix6 are the second segment, on each node's
	// eth1, with one client: for tests of the interfaces an
	// L2Advertisement allows.
	LAN2Prefix4 = netip.MustParsePrefix("203.0.113.128/26")
	LAN2Prefix6 = netip.MustParsePrefix("2001:db8:3::/64")
	Client2v4   = netip.MustParseAddr("203.0.113.190")
	Client2v6   = netip.MustParseAddr("2001:db8:3::50")

	UpstreamPrefix4 = netip.MustParsePrefix("203.0.113.0/26")
	UpstreamPrefix6 = netip.MustParsePrefix("2001:db8:2::/64")

	RouterLAN4      = netip.MustParseAddr("198.51.100.1")
	RouterLAN6      = netip.MustParseAddr("2001:db8:1::1")
	RouterUpstream4 = netip.MustParseAddr("203.0.113.1")
	RouterUpstream6 = netip.MustParseAddr("2001:db8:2::1")

	Client4         = netip.MustParseAddr("198.51.100.50")
	Client6         = netip.MustParseAddr("2001:db8:1::50")
	UpstreamClient4 = netip.MustParseAddr("203.0.113.10")
	UpstreamClient6 = netip.MustParseAddr("2001:db8:2::10")

	// BridgeLAN4 is the bridge namespace's address on the LAN. Nodes reach
	// the apiserver link through it, and through nothing else.
	BridgeLAN4 = netip.MustParseAddr("198.51.100.126")

	APILinkPrefix = netip.MustParsePrefix("203.0.113.240/30")
	// APIServerAddr is the root end of the apiserver link; the apiserver
	// listens here.
	APIServerAddr = netip.MustParseAddr("203.0.113.241")
	APILinkLab    = netip.MustParseAddr("203.0.113.242")

	// ClusterIPRange4 holds 126 cluster IPs: enough for the end-to-end
	// suites' Services.
	ClusterIPRange4 = netip.MustParsePrefix("198.51.100.128/25")
	ClusterIPRange6 = netip.MustParsePrefix("2001:db8:ffff::/108")
)

// ASNs of the lab's BGP speakers.
const (
	RouterASN = 64512
	NodeASN   = 64513
)

// BGPPassword is the router's TCP MD5 password for every node. It matches
// the Secret tor-bgp-password in config/samples/bgp.yaml.
const BGPPassword = "change-me"

// MaxNodes is how many nodes fit in the plan (.11 to .49).
const MaxNodes = 39

// ServicePrefixes are the ranges every node DNATs to its HTTP server, standing
// in for kube-proxy: every pool, both families.
func ServicePrefixes() []netip.Prefix {
	return []netip.Prefix{L2Pool4, L2Pool6, L2DualPool4, L2DualPool6, Eth1Pool4, Eth1Pool6, BGPPool4, BGPPool6}
}

// NodeAddrs returns node i's (1-based) IPv4 and IPv6 LAN addresses.
func NodeAddrs(i int) (netip.Addr, netip.Addr) {
	if i < 1 || i > MaxNodes {
		panic(fmt.Sprintf("node index %d out of range 1..%d", i, MaxNodes))
	}
	v4 := LANPrefix4.Addr().As4()
	v4[3] = byte(10 + i)
	v6 := LANPrefix6.Addr().As16()
	// ::11, ::12, ... read like the IPv4 host part.
	v6[15] = byte((10+i)/10*16 + (10+i)%10)
	return netip.AddrFrom4(v4), netip.AddrFrom16(v6)
}

// NodeLAN2Addrs returns node i's (1-based) addresses on the second LAN.
func NodeLAN2Addrs(i int) (netip.Addr, netip.Addr) {
	_, v6 := NodeAddrs(i)
	b4, b6 := LAN2Prefix4.Addr().As4(), LAN2Prefix6.Addr().As16()
	b4[3] = byte(130 + i)
	b6[15] = v6.As16()[15]
	return netip.AddrFrom4(b4), netip.AddrFrom16(b6)
}

// prefixOf returns addr with the length of the prefix it sits in, for `ip addr add`.
func prefixOf(addr netip.Addr, in netip.Prefix) string {
	return netip.PrefixFrom(addr, in.Bits()).String()
}
