package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FRR's daemons, as installed by the Debian package.
const (
	ZebraBin = "/usr/lib/frr/zebra"
	BGPDBin  = "/usr/lib/frr/bgpd"
)

// routerConfig renders bgpd's configuration: AS RouterASN, an explicit eBGP
// neighbor in AS NodeASN for every node address (IPv4 and IPv6) with TCP MD5
// password BGPPassword, both address families on every session, and ECMP
// across nodes.
func routerConfig(nodes int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "frr defaults traditional\nhostname %s\nlog stdout informational\n!\n", RouterNS)
	fmt.Fprintf(&b, "router bgp %d\n bgp router-id %s\n no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n", RouterASN, RouterLAN4)
	fmt.Fprintf(&b, " bgp bestpath as-path multipath-relax\n")
	for _, g := range []string{"nodes4", "nodes6"} {
		fmt.Fprintf(&b, " neighbor %s peer-group\n neighbor %s remote-as %d\n neighbor %s timers connect 5\n", g, g, NodeASN, g)
		fmt.Fprintf(&b, " neighbor %s password %s\n", g, BGPPassword)
	}
	for i := 1; i <= nodes; i++ {
		v4, v6 := NodeAddrs(i)
		fmt.Fprintf(&b, " neighbor %s peer-group nodes4\n neighbor %s description %s\n", v4, v4, NodeName(i))
		fmt.Fprintf(&b, " neighbor %s peer-group nodes6\n neighbor %s description %s\n", v6, v6, NodeName(i))
	}
	// Both families on both sessions: a speaker may carry IPv6 routes over
	// its IPv4 session, as with the single peer in config/samples.
	for _, af := range []string{"ipv4", "ipv6"} {
		fmt.Fprintf(&b, " address-family %s unicast\n  neighbor nodes4 activate\n  neighbor nodes6 activate\n  maximum-paths 8\n exit-address-family\n", af)
	}
	b.WriteString("!\n")
	return b.String()
}

// startRouter writes the config and starts zebra and bgpd in RouterNS.
func startRouter(ctx context.Context, nodes int) ([]*Proc, error) {
	dir := filepath.Join(StateDir, "frr")
	zebraConf := filepath.Join(dir, "zebra.conf")
	bgpdConf := filepath.Join(dir, "bgpd.conf")
	if err := os.WriteFile(zebraConf, []byte("hostname "+RouterNS+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write zebra config: %w", err)
	}
	if err := os.WriteFile(bgpdConf, []byte(routerConfig(nodes)), 0o644); err != nil {
		return nil, fmt.Errorf("write bgpd config: %w", err)
	}
	// The daemons drop to the frr user, which must own the socket dir.
	if err := os.MkdirAll(FRRRunDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", FRRRunDir, err)
	}
	if u, err := user.Lookup("frr"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(FRRRunDir, uid, gid); err != nil {
			return nil, fmt.Errorf("chown %s: %w", FRRRunDir, err)
		}
	}
	common := []string{"-N", RouterNS, "-P", "0", "--log", "stdout"}
	zebra, err := startProc("zebra", RouterNS, nil,
		append([]string{ZebraBin, "-f", zebraConf, "-i", FRRRunDir + "/zebra.pid"}, common...)...)
	if err != nil {
		return nil, err
	}
	procs := []*Proc{zebra}
	// bgpd connects to zebra's socket: wait for it.
	if err := waitFor(ctx, 10*time.Second, func() bool {
		_, err := os.Stat(FRRRunDir + "/zserv.api")
		return err == nil
	}); err != nil {
		return procs, fmt.Errorf("zebra did not start: %w\n%s", err, zebra.LogTail(10))
	}
	bgpd, err := startProc("bgpd", RouterNS, nil,
		append([]string{BGPDBin, "-f", bgpdConf, "-i", FRRRunDir + "/bgpd.pid"}, common...)...)
	if err != nil {
		return procs, err
	}
	procs = append(procs, bgpd)
	if err := waitFor(ctx, 10*time.Second, func() bool {
		_, err := Vtysh(ctx, "show bgp summary json")
		return err == nil
	}); err != nil {
		return procs, fmt.Errorf("bgpd did not start: %w\n%s", err, bgpd.LogTail(10))
	}
	return procs, nil
}

// Vtysh runs one vtysh command against the lab router.
func Vtysh(ctx context.Context, command string) (string, error) {
	cmd := exec.CommandContext(ctx, "vtysh", "-N", RouterNS, "-c", command)
	// vtysh complains on stderr that /etc/frr/hlab-router/vtysh.conf is
	// missing; the lab writes nothing under /etc, so only stdout counts.
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("vtysh -N %s -c %q: %w", RouterNS, command, err)
	}
	return string(out), nil
}

// BGPNeighbor is one of the router's BGP sessions; Received counts the
// prefixes of both families.
type BGPNeighbor struct {
	Address  netip.Addr
	State    string
	Received int
	// Dynamic says a listen range made it, not a neighbor line.
	Dynamic bool
}

// BGPNeighbors returns the router's configured neighbors and their state.
func BGPNeighbors(ctx context.Context) ([]BGPNeighbor, error) {
	out, err := Vtysh(ctx, "show bgp summary json")
	if err != nil {
		return nil, err
	}
	var sum map[string]struct {
		Peers map[string]struct {
			State   string `json:"state"`
			PfxRcd  int    `json:"pfxRcd"`
			Dynamic bool   `json:"dynamicPeer"`
		} `json:"peers"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		return nil, fmt.Errorf("parse bgp summary: %w", err)
	}
	// Every session carries both families, so it shows up once per family.
	byAddr := map[netip.Addr]*BGPNeighbor{}
	for _, af := range sum {
		for addr, p := range af.Peers {
			a, err := netip.ParseAddr(addr)
			if err != nil {
				continue
			}
			if n, ok := byAddr[a]; ok {
				n.Received += p.PfxRcd
				continue
			}
			byAddr[a] = &BGPNeighbor{Address: a, State: p.State, Received: p.PfxRcd, Dynamic: p.Dynamic}
		}
	}
	ns := make([]BGPNeighbor, 0, len(byAddr))
	for _, n := range byAddr {
		ns = append(ns, *n)
	}
	slices.SortFunc(ns, func(a, b BGPNeighbor) int { return a.Address.Compare(b.Address) })
	return ns, nil
}

// RouterNextHops returns the next hops of the router's route to addr that BGP
// installed, or none.
func RouterNextHops(ctx context.Context, addr netip.Addr) ([]netip.Addr, error) {
	family := "ip"
	if addr.Is6() {
		family = "ipv6"
	}
	out, err := Vtysh(ctx, fmt.Sprintf("show %s route %s json", family, addr))
	if err != nil {
		return nil, err
	}
	var routes map[string][]struct {
		Protocol string `json:"protocol"`
		Selected bool   `json:"selected"`
		Nexthops []struct {
			IP     string `json:"ip"`
			Active bool   `json:"active"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal([]byte(out), &routes); err != nil {
		return nil, fmt.Errorf("parse route: %w", err)
	}
	var hops []netip.Addr
	for _, rs := range routes {
		for _, r := range rs {
			if r.Protocol != "bgp" || !r.Selected {
				continue
			}
			for _, nh := range r.Nexthops {
				if a, err := netip.ParseAddr(nh.IP); err == nil && nh.Active {
					hops = append(hops, a)
				}
			}
		}
	}
	return hops, nil
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
