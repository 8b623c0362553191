package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
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

// NeighborAnswers asks the LAN for addr's link-layer address from the LAN
// client (arping for IPv4, ndisc6 for IPv6) and returns every distinct MAC
// that answered within about a second. None means nobody announces addr.
func NeighborAnswers(ctx context.Context, addr netip.Addr) ([]net.HardwareAddr, error) {
	return NeighborAnswersFrom(ctx, ClientNS, addr)
}

// NeighborAnswersFrom is NeighborAnswers from the client namespace ns. It
// sends one request (labprobe -ask) and collects every answer to it within
// half a second, so that two MACs mean two nodes answering at once.
func NeighborAnswersFrom(ctx context.Context, ns string, addr netip.Addr) ([]net.HardwareAddr, error) {
	return NeighborAnswersWithin(ctx, ns, addr, 500*time.Millisecond)
}

// NeighborAnswersWithin is NeighborAnswersFrom, collecting answers for
// window.
func NeighborAnswersWithin(ctx context.Context, ns string, addr netip.Addr, window time.Duration) ([]net.HardwareAddr, error) {
	out, err := Exec(ctx, ns, filepath.Join(StateDir, "bin", "labprobe"), "-ask", ClientIface,
		"-target", netip.AddrPortFrom(addr, 0).String(), "-window", window.String())
	if err != nil {
		return nil, err
	}
	var macs []net.HardwareAddr
	for _, line := range strings.Split(out, "\n") {
		var r ProbeRecord
		if json.Unmarshal([]byte(line), &r) != nil || r.Kind != "answer" {
			continue
		}
		hw, perr := net.ParseMAC(r.MAC)
		if perr != nil || slices.ContainsFunc(macs, func(x net.HardwareAddr) bool { return x.String() == hw.String() }) {
			continue
		}
		macs = append(macs, hw)
	}
	return macs, nil
}

// AnswerSample is who answered one request at one moment.
type AnswerSample struct {
	At    time.Time
	Nodes []string
}

// SampleAnswers asks for addr from ns again and again for d (each request
// collects answers for window), and returns who answered each. Bounded: it
// stops after d.
func (l *Lab) SampleAnswers(ctx context.Context, ns string, addr netip.Addr, d, window time.Duration) ([]AnswerSample, error) {
	var out []AnswerSample
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		at := time.Now()
		raw, err := Exec(ctx, ns, filepath.Join(StateDir, "bin", "labprobe"), "-ask", ClientIface,
			"-target", netip.AddrPortFrom(addr, 0).String(), "-window", window.String())
		if err != nil {
			return out, err
		}
		s := AnswerSample{At: at}
		for _, line := range strings.Split(raw, "\n") {
			var r ProbeRecord
			if json.Unmarshal([]byte(line), &r) == nil && r.Kind == "answer" {
				if hw, err := net.ParseMAC(r.MAC); err == nil && !slices.Contains(s.Nodes, l.NodeByMAC(hw)) {
					s.Nodes = append(s.Nodes, l.NodeByMAC(hw))
				}
			}
		}
		slices.Sort(s.Nodes)
		out = append(out, s)
	}
	return out, nil
}

var macRE = regexp.MustCompile(`(?i)\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b`)

// ToolAnswers asks for addr with the standard tools, arping (IPv4) or
// ndisc6 (IPv6), from the client namespace ns, and returns the MACs they
// print.
func ToolAnswers(ctx context.Context, ns string, addr netip.Addr) ([]string, error) {
	var out string
	var err error
	if addr.Is4() {
		out, err = Exec(ctx, ns, "arping", "-c", "1", "-w", "1", "-i", ClientIface, addr.String())
	} else {
		out, err = Exec(ctx, ns, "ndisc6", "-n", "-r", "1", "-w", "1000", addr.String(), ClientIface)
	}
	macs := macRE.FindAllString(out, -1)
	for i := range macs {
		macs[i] = strings.ToLower(macs[i])
	}
	slices.Sort(macs)
	macs = slices.Compact(macs)
	if len(macs) == 0 && err != nil {
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
			names = append(names, l.NodeByMAC(mac))
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

// NodeByMAC names the node with mac on either LAN.
func (l *Lab) NodeByMAC(mac net.HardwareAddr) string {
	for i, n := range l.Nodes {
		if NodeMAC(i+1).String() == mac.String() || NodeLAN2MAC(i+1).String() == mac.String() {
			return n.Name
		}
	}
	return "unknown MAC " + mac.String()
}

// AnsweredBy returns the names of the nodes that answer ARP or NDP for
// addr, asked from the client namespace ns.
func (l *Lab) AnsweredBy(ctx context.Context, ns string, addr netip.Addr) ([]string, error) {
	macs, err := NeighborAnswersFrom(ctx, ns, addr)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range macs {
		names = append(names, l.NodeByMAC(m))
	}
	slices.Sort(names)
	return names, nil
}

// WaitAnsweredBy waits until exactly the node want (none when empty)
// answers for addr from ns, and returns how long that took. Its error
// lists every change in who answered, with when, so that a failure shows
// whether two nodes answered all along or only for a moment.
func (l *Lab) WaitAnsweredBy(ctx context.Context, ns string, addr netip.Addr, want string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var got []string
	var err error
	var seen answerHistory
	werr := waitFor(ctx, timeout, func() bool {
		got, err = l.AnsweredBy(ctx, ns, addr)
		seen.add(time.Since(start), got, err)
		return err == nil && (want == "" && len(got) == 0 || len(got) == 1 && got[0] == want)
	})
	if werr != nil {
		return time.Since(start), fmt.Errorf("%s answered by %v (%v), want %q, after %s; seen: %s", addr, got, err, want, timeout, seen)
	}
	return time.Since(start), nil
}

// answerHistory is who answered, each time it changed.
type answerHistory []string

func (h *answerHistory) add(at time.Duration, nodes []string, err error) {
	now := fmt.Sprint(nodes)
	if err != nil {
		now = "error: " + err.Error()
	}
	if n := len(*h); n > 0 && strings.HasSuffix((*h)[n-1], " "+now) {
		return
	}
	*h = append(*h, fmt.Sprintf("%v %s", at.Round(time.Millisecond), now))
}

func (h answerHistory) String() string { return strings.Join(h, ", ") }

func (l *Lab) nodeByAddr(a netip.Addr) string {
	for _, n := range l.Nodes {
		if n.IPv4 == a || n.IPv6 == a {
			return n.Name
		}
	}
	return fmt.Sprintf("unknown next hop %s", a)
}
