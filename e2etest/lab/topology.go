package lab

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// NodeMAC returns node i's LAN MAC address: locally administered and
// readable, so an ARP or NDP answer tells which node sent it.
func NodeMAC(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x68, 0x6c, 0x00, 0x01, byte(i)}
}

// NodeLAN2MAC returns node i's MAC on the second LAN (eth1).
func NodeLAN2MAC(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x68, 0x6c, 0x00, 0x02, byte(i)}
}

// buildNetwork creates every namespace, link, address and route of the lab.
// The root namespace gets only RootVeth, with APIServerAddr on it. The
// nodes in bonded have a bond for their LAN link (see BondSlaves).
func buildNetwork(ctx context.Context, nodes int, bonded map[int]bool) error {
	namespaces := []string{BridgeNS, RouterNS, ClientNS, UpstreamClientNS, Client2NS}
	for i := 1; i <= nodes; i++ {
		namespaces = append(namespaces, NodeNS(i))
	}
	for _, ns := range namespaces {
		if _, err := run(ctx, "ip", "netns", "add", ns); err != nil {
			return err
		}
		if err := ipBatch(ctx, ns, []string{"link set lo up"}); err != nil {
			return err
		}
	}

	// The segments: bridges that flood multicast like a plain switch, so
	// NDP reaches every node without MLD snooping getting in the way. br1,
	// the second LAN, has no address: nothing routes between it and the
	// rest of the lab.
	br := []string{
		"link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
		"addr add " + prefixOf(BridgeLAN4, LANPrefix4) + " dev br0",
		"link set br0 up",
		"link add br1 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
		"link set br1 up",
		"link add p-router type veth peer name lan0 netns " + RouterNS,
		"link add p-client type veth peer name " + ClientIface + " netns " + ClientNS,
		"link add p2-client type veth peer name " + ClientIface + " netns " + Client2NS,
		"link set p2-client master br1 up",
	}
	for i := 1; i <= nodes; i++ {
		br = append(br, nodeLANLinks(i, bonded[i])...)
		br = append(br,
			fmt.Sprintf("link add p2-node%d type veth peer name %s netns %s", i, LAN2Iface, NodeNS(i)),
			fmt.Sprintf("link set p2-node%d master br1 up", i))
	}
	for _, port := range bridgePorts(nodes, bonded) {
		br = append(br, "link set "+port+" master br0 up")
	}
	if err := sysctls(ctx, BridgeNS, "net.ipv6.conf.all.disable_ipv6", "1", "net.ipv6.conf.default.disable_ipv6", "1"); err != nil {
		return err
	}
	if err := ipBatch(ctx, BridgeNS, br); err != nil {
		return err
	}

	// Nodes. Their IPv6 addresses survive a link going down, as IPv4
	// ones do, so that a test can take a link down and up again.
	for i := 1; i <= nodes; i++ {
		if err := sysctls(ctx, NodeNS(i), "net.ipv6.conf.all.keep_addr_on_down", "1", "net.ipv6.conf.default.keep_addr_on_down", "1"); err != nil {
			return err
		}
		v4, v6 := NodeAddrs(i)
		w4, w6 := NodeLAN2Addrs(i)
		lines := []string{
			"link set " + ClientIface + " address " + NodeMAC(i).String(),
			"addr add " + prefixOf(v4, LANPrefix4) + " dev " + ClientIface,
			"addr add " + prefixOf(v6, LANPrefix6) + " dev " + ClientIface + " nodad",
			"link set " + ClientIface + " up",
			"link set " + LAN2Iface + " address " + NodeLAN2MAC(i).String(),
			"addr add " + prefixOf(w4, LAN2Prefix4) + " dev " + LAN2Iface,
			"addr add " + prefixOf(w6, LAN2Prefix6) + " dev " + LAN2Iface + " nodad",
			"link set " + LAN2Iface + " up",
		}
		if bonded[i] {
			lines = append(bondCommands(i), lines...)
		}
		err := ipBatch(ctx, NodeNS(i), append(lines, nodeRoutes()...))
		if err != nil {
			return err
		}
	}

	// LAN client: the BGP pool and the upstream LAN are behind the router.
	err := ipBatch(ctx, ClientNS, []string{
		"addr add " + prefixOf(Client4, LANPrefix4) + " dev " + ClientIface,
		"addr add " + prefixOf(Client6, LANPrefix6) + " dev " + ClientIface + " nodad",
		"link set " + ClientIface + " up",
		"route add " + UpstreamPrefix4.String() + " via " + RouterLAN4.String(),
		"route add " + BGPPool4.String() + " via " + RouterLAN4.String(),
		"route add " + UpstreamPrefix6.String() + " via " + RouterLAN6.String(),
		"route add " + BGPPool6.String() + " via " + RouterLAN6.String(),
	})
	if err != nil {
		return err
	}

	// Second-LAN client: its own segment, where the eth1-only pool is
	// on-link.
	err = ipBatch(ctx, Client2NS, []string{
		"addr add " + prefixOf(Client2v4, LAN2Prefix4) + " dev " + ClientIface,
		"addr add " + prefixOf(Client2v6, LAN2Prefix6) + " dev " + ClientIface + " nodad",
		"link set " + ClientIface + " up",
		"route add " + Eth1Pool4.String() + " dev " + ClientIface,
		"route add " + Eth1Pool6.String() + " dev " + ClientIface,
	})
	if err != nil {
		return err
	}

	// Router: on the LAN and on the upstream LAN, forwarding between them.
	err = ipBatch(ctx, RouterNS, []string{
		"link add up0 type veth peer name " + ClientIface + " netns " + UpstreamClientNS,
		"addr add " + prefixOf(RouterLAN4, LANPrefix4) + " dev lan0",
		"addr add " + prefixOf(RouterLAN6, LANPrefix6) + " dev lan0 nodad",
		"addr add " + prefixOf(RouterUpstream4, UpstreamPrefix4) + " dev up0",
		"addr add " + prefixOf(RouterUpstream6, UpstreamPrefix6) + " dev up0 nodad",
		"link set lan0 up",
		"link set up0 up",
	})
	if err != nil {
		return err
	}
	// ECMP by flow (addresses and ports), so that clients' connections
	// spread over the nodes.
	if err := sysctls(ctx, RouterNS, "net.ipv4.ip_forward", "1", "net.ipv6.conf.all.forwarding", "1",
		"net.ipv4.fib_multipath_hash_policy", "1", "net.ipv6.fib_multipath_hash_policy", "1"); err != nil {
		return err
	}

	// Upstream client: everything in the lab is behind the router.
	err = ipBatch(ctx, UpstreamClientNS, []string{
		"addr add " + prefixOf(UpstreamClient4, UpstreamPrefix4) + " dev " + ClientIface,
		"addr add " + prefixOf(UpstreamClient6, UpstreamPrefix6) + " dev " + ClientIface + " nodad",
		"link set " + ClientIface + " up",
		"route add " + LANPrefix4.String() + " via " + RouterUpstream4.String(),
		"route add " + BGPPool4.String() + " via " + RouterUpstream4.String(),
		"route add " + LANPrefix6.String() + " via " + RouterUpstream6.String(),
		"route add " + BGPPool6.String() + " via " + RouterUpstream6.String(),
	})
	if err != nil {
		return err
	}

	return buildAPILink(ctx)
}

// nodeRoutes are a node's routes over its LAN link: replies to the
// upstream client go through the router, and the apiserver is reached
// through the bridge namespace. There is no default route. The kernel
// drops them when the link goes down, so SetLink adds them back.
func nodeRoutes() []string {
	return []string{
		"route replace " + UpstreamPrefix4.String() + " via " + RouterLAN4.String(),
		"route replace " + UpstreamPrefix6.String() + " via " + RouterLAN6.String(),
		"route replace " + APILinkPrefix.String() + " via " + BridgeLAN4.String(),
	}
}

// buildAPILink makes the one link between the root namespace and the lab.
// IPv6 is off on both ends so the root namespace sends nothing on its own
// (no router solicitations, no MLD).
func buildAPILink(ctx context.Context) error {
	if _, err := run(ctx, "ip", "link", "add", RootVeth, "type", "veth", "peer", "name", "api0", "netns", BridgeNS); err != nil {
		return err
	}
	if _, err := run(ctx, "sysctl", "-q", "-w", "net.ipv6.conf."+RootVeth+".disable_ipv6=1"); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "addr", "add", prefixOf(APIServerAddr, APILinkPrefix), "dev", RootVeth); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "link", "set", RootVeth, "up"); err != nil {
		return err
	}
	if err := ipBatch(ctx, BridgeNS, []string{
		"addr add " + prefixOf(APILinkLab, APILinkPrefix) + " dev api0",
		"link set api0 up",
	}); err != nil {
		return err
	}
	return sysctls(ctx, BridgeNS, "net.ipv4.ip_forward", "1")
}

// apiLinkRuleset lets the nodes reach the apiserver port and nothing else in
// the root namespace; their source is rewritten to the lab end of the link,
// so the root namespace needs no route into the lab.
func apiLinkRuleset(port int) string {
	return strings.NewReplacer("$API", APIServerAddr.String(), "$PORT", fmt.Sprint(port)).Replace(`
table inet hlab {
	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "api0" ip daddr $API tcp dport $PORT accept
		oifname "api0" drop
		iifname "api0" ct state established,related accept
		iifname "api0" drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "api0" ct state established,related accept
		iifname "api0" drop
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "api0" masquerade
	}
}
`)
}

// nodeRuleset stands in for kube-proxy: TCP to any pool address, on any
// port, goes to the node's HTTP server.
func nodeRuleset(port int) string {
	var v4, v6 []string
	for _, p := range ServicePrefixes() {
		if p.Addr().Is4() {
			v4 = append(v4, p.String())
		} else {
			v6 = append(v6, p.String())
		}
	}
	return fmt.Sprintf(`
table inet hlab {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr { %s } meta l4proto tcp redirect to :%d
		ip6 daddr { %s } meta l4proto tcp redirect to :%d
	}
}
`, strings.Join(v4, ", "), port, strings.Join(v6, ", "), port)
}

func bridgePorts(nodes int, bonded map[int]bool) []string {
	ports := []string{"p-router", "p-client"}
	for i := 1; i <= nodes; i++ {
		ports = append(ports, nodePorts(i, bonded[i])...)
	}
	return ports
}

// nodePorts returns the LAN bridge's ports to node i: one, or one per slave
// of a bond.
func nodePorts(i int, bonded bool) []string {
	if bonded {
		return []string{fmt.Sprintf("p-node%d", i), fmt.Sprintf("p-node%db", i)}
	}
	return []string{fmt.Sprintf("p-node%d", i)}
}
