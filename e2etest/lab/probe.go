package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ProbeResult is the outcome of one HTTP request from a client.
type ProbeResult struct {
	// Node is the name of the node that answered, when one did.
	Node string
	Err  error
}

// Probe makes one HTTP request from the client namespace ns to addr:port
// and returns the name of the node that answered. It gives up after two
// seconds.
func Probe(ctx context.Context, ns string, addr netip.Addr, port uint16) ProbeResult {
	url := "http://" + netip.AddrPortFrom(addr, port).String() + "/"
	out, err := Exec(ctx, ns, "curl", "-sS", "--connect-timeout", "1", "--max-time", "2", url)
	if err != nil {
		return ProbeResult{Err: err}
	}
	return ProbeResult{Node: strings.TrimSpace(out)}
}

// ProbeN makes count requests, interval apart, and returns every result. It
// stops early when ctx ends. Bounded: at most count requests of two seconds.
func ProbeN(ctx context.Context, ns string, addr netip.Addr, port uint16, count int, interval time.Duration) []ProbeResult {
	out := make([]ProbeResult, 0, count)
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; i < count; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return out
			case <-t.C:
			}
		}
		out = append(out, Probe(ctx, ns, addr, port))
	}
	return out
}

var macRE = regexp.MustCompile(`(?i)\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b`)

// NeighborAnswers asks the LAN for addr's link-layer address from the LAN
// client (arping for IPv4, ndisc6 for IPv6) and returns every distinct MAC
// that answered within about a second. None means nobody announces addr.
func NeighborAnswers(ctx context.Context, addr netip.Addr) ([]net.HardwareAddr, error) {
	var out string
	var err error
	if addr.Is4() {
		out, err = Exec(ctx, ClientNS, "arping", "-c", "1", "-w", "1", "-i", ClientIface, addr.String())
	} else {
		out, err = Exec(ctx, ClientNS, "ndisc6", "-m", "-n", "-r", "1", "-w", "1000", addr.String(), ClientIface)
	}
	var macs []net.HardwareAddr
	for _, m := range macRE.FindAllString(out, -1) {
		hw, perr := net.ParseMAC(m)
		if perr != nil || slices.ContainsFunc(macs, func(x net.HardwareAddr) bool { return x.String() == hw.String() }) {
			continue
		}
		macs = append(macs, hw)
	}
	// Both tools exit non-zero when nobody answers: that is an answer too.
	if len(macs) == 0 && err != nil && ctx.Err() != nil {
		return nil, err
	}
	return macs, nil
}

// Announcers returns the names of the nodes that announce addr, seen from
// the network: for an address on the LAN, the nodes that answer ARP or NDP
// for it; for any other, the nodes the router's BGP route points to.
func (l *Lab) Announcers(ctx context.Context, addr netip.Addr) ([]string, error) {
	var names []string
	if LANPrefix4.Contains(addr) || LANPrefix6.Contains(addr) {
		macs, err := NeighborAnswers(ctx, addr)
		if err != nil {
			return nil, err
		}
		for _, mac := range macs {
			names = append(names, l.nodeByMAC(mac))
		}
		return names, nil
	}
	hops, err := RouterNextHops(ctx, addr)
	if err != nil {
		return nil, err
	}
	for _, h := range hops {
		names = append(names, l.nodeByAddr(h))
	}
	return names, nil
}

func (l *Lab) nodeByMAC(mac net.HardwareAddr) string {
	for i, n := range l.Nodes {
		if NodeMAC(i+1).String() == mac.String() {
			return n.Name
		}
	}
	return "unknown MAC " + mac.String()
}

func (l *Lab) nodeByAddr(a netip.Addr) string {
	for _, n := range l.Nodes {
		if n.IPv4 == a || n.IPv6 == a {
			return n.Name
		}
	}
	return fmt.Sprintf("unknown next hop %s", a)
}
