package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"time"
)

// A bonded node's LAN link, ClientIface, is an active-backup bond whose MAC
// follows its active slave (fail_over_mac=active), so that a failover
// changes the MAC under the same name, as on hosts whose NICs cannot share
// one MAC. Its slaves are veths on two ports of the LAN bridge,
// p-node<i> and p-node<i>b.
var BondSlaves = [2]string{"eth0a", "eth0b"}

// NodeBackupMAC returns the MAC of the second slave of bonded node i, which
// the bond takes when it fails over; the first slave has NodeMAC(i).
func NodeBackupMAC(i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0x68, 0x6c, 0x00, 0x03, byte(i)}
}

// bondMonitor is the bond's MII link check interval, in ms: a slave whose
// carrier goes is failed over from within this.
const bondMonitor = 100

// bondedSet checks Options.BondedNodes against Options.Nodes.
func bondedSet(opts Options) (map[int]bool, error) {
	out := map[int]bool{}
	for _, i := range opts.BondedNodes {
		if i < 1 || i > opts.Nodes {
			return nil, fmt.Errorf("bonded node %d: not in 1..%d", i, opts.Nodes)
		}
		out[i] = true
	}
	return out, nil
}

// nodeLANLinks returns the bridge namespace's commands that create node i's
// LAN veths: one for a plain node, one per slave for a bonded one.
func nodeLANLinks(i int, bonded bool) []string {
	if !bonded {
		return []string{fmt.Sprintf("link add p-node%d type veth peer name %s netns %s", i, ClientIface, NodeNS(i))}
	}
	return []string{
		fmt.Sprintf("link add p-node%d type veth peer name %s netns %s", i, BondSlaves[0], NodeNS(i)),
		fmt.Sprintf("link add p-node%db type veth peer name %s netns %s", i, BondSlaves[1], NodeNS(i)),
	}
}

// bondCommands returns node i's commands that make ClientIface a bond of
// its two slaves, before its addresses are set. The first slave enslaved
// gives the bond its MAC, NodeMAC(i), and is the active one.
func bondCommands(i int) []string {
	return []string{
		fmt.Sprintf("link add %s type bond mode active-backup fail_over_mac active miimon %d", ClientIface, bondMonitor),
		"link set " + BondSlaves[0] + " address " + NodeMAC(i).String(),
		"link set " + BondSlaves[1] + " address " + NodeBackupMAC(i).String(),
		"link set " + BondSlaves[0] + " master " + ClientIface,
		"link set " + BondSlaves[1] + " master " + ClientIface,
	}
}

// FailOver takes down the active slave of bonded node i's LAN link, as a
// pulled cable would, and returns the bond's new MAC once it has it.
// SetLink(ctx, i, slave, true) brings the slave back; the bond then keeps
// the other one active.
func (l *Lab) FailOver(ctx context.Context, i int) (net.HardwareAddr, error) {
	if !l.bonded[i] {
		return nil, fmt.Errorf("fail over node %d: its LAN link is not a bond", i)
	}
	out, err := Exec(ctx, NodeNS(i), "cat", "/sys/class/net/"+ClientIface+"/bonding/active_slave")
	if err != nil {
		return nil, fmt.Errorf("fail over node %d: %w", i, err)
	}
	active, next := strings.TrimSpace(out), BondSlaves[0]
	if active == BondSlaves[0] {
		next = BondSlaves[1]
	}
	want, err := linkMAC(ctx, i, next)
	if err != nil {
		return nil, err
	}
	if err := l.SetLink(ctx, i, active, false); err != nil {
		return nil, fmt.Errorf("fail over node %d: %w", i, err)
	}
	err = waitFor(ctx, 10*bondMonitor*time.Millisecond, func() bool {
		mac, err := linkMAC(ctx, i, ClientIface)
		return err == nil && bytes.Equal(mac, want)
	})
	if err != nil {
		return nil, fmt.Errorf("fail over node %d from %s: the bond did not take %s's MAC %s: %w", i, active, next, want, err)
	}
	return want, nil
}

// linkMAC returns the MAC of a link of node i.
func linkMAC(ctx context.Context, i int, iface string) (net.HardwareAddr, error) {
	out, err := Exec(ctx, NodeNS(i), "cat", "/sys/class/net/"+iface+"/address")
	if err != nil {
		return nil, err
	}
	mac, err := net.ParseMAC(strings.TrimSpace(out))
	if err != nil {
		return nil, fmt.Errorf("MAC of %s on node %d: %w", iface, i, err)
	}
	return mac, nil
}
