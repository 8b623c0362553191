package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// KernelNextHops returns the next hops of the route to addr that BGP put in
// the router's kernel table (what traffic really follows), sorted; none
// when there is no such route.
func KernelNextHops(ctx context.Context, addr netip.Addr) ([]netip.Addr, error) {
	fam := "-4"
	if addr.Is6() {
		fam = "-6"
	}
	out, err := Exec(ctx, RouterNS, "ip", fam, "-j", "route", "show", netip.PrefixFrom(addr, addr.BitLen()).String())
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Protocol string `json:"protocol"`
		Gateway  string `json:"gateway"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &routes); err != nil {
		return nil, fmt.Errorf("parse ip route of %s: %w: %s", addr, err, out)
	}
	var hops []netip.Addr
	for _, r := range routes {
		if r.Protocol != "bgp" {
			continue
		}
		gws := []string{r.Gateway}
		for _, nh := range r.Nexthops {
			gws = append(gws, nh.Gateway)
		}
		for _, g := range gws {
			if a, err := netip.ParseAddr(g); err == nil {
				hops = append(hops, a)
			}
		}
	}
	slices.SortFunc(hops, netip.Addr.Compare)
	return slices.Compact(hops), nil
}

// WaitKernelNextHops waits until the router's kernel route to addr goes
// exactly to want (no route when want is empty), and returns how long that
// took.
func WaitKernelNextHops(ctx context.Context, addr netip.Addr, want []netip.Addr, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	want = slices.Clone(want)
	slices.SortFunc(want, netip.Addr.Compare)
	var got []netip.Addr
	var err error
	werr := pollFast(ctx, timeout, func() bool {
		got, err = KernelNextHops(ctx, addr)
		return err == nil && slices.Equal(got, want)
	})
	if werr != nil {
		return time.Since(start), fmt.Errorf("route to %s goes via %v (%v), want %v, after %s", addr, got, err, want, timeout)
	}
	return time.Since(start), nil
}

// pollFast polls cond every 20 ms until it holds or timeout passes.
func pollFast(ctx context.Context, timeout time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BGPPath is one path the router received for a prefix.
type BGPPath struct {
	Peer             netip.Addr
	Communities      []string
	LargeCommunities []string
	// LocalPref is set when the router received one (iBGP).
	LocalPref *int
}

// BGPPaths returns the paths the router holds for prefix.
func BGPPaths(ctx context.Context, prefix netip.Prefix) ([]BGPPath, error) {
	fam := "ipv4"
	if prefix.Addr().Is6() {
		fam = "ipv6"
	}
	out, err := Vtysh(ctx, fmt.Sprintf("show bgp %s unicast %s json", fam, prefix))
	if err != nil {
		return nil, err
	}
	var res struct {
		Paths []struct {
			Community struct {
				List []string `json:"list"`
			} `json:"community"`
			LargeCommunity struct {
				List []string `json:"list"`
			} `json:"largeCommunity"`
			LocPrf *int `json:"locPrf"`
			Peer   struct {
				PeerID string `json:"peerId"`
			} `json:"peer"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, fmt.Errorf("parse bgp paths of %s: %w", prefix, err)
	}
	var paths []BGPPath
	for _, p := range res.Paths {
		peer, _ := netip.ParseAddr(p.Peer.PeerID)
		paths = append(paths, BGPPath{Peer: peer, Communities: p.Community.List, LargeCommunities: p.LargeCommunity.List, LocalPref: p.LocPrf})
	}
	slices.SortFunc(paths, func(a, b BGPPath) int { return a.Peer.Compare(b.Peer) })
	return paths, nil
}

// VtyshConfig applies configuration lines to the router, as typed after
// "configure terminal".
func VtyshConfig(ctx context.Context, lines ...string) error {
	args := []string{"-N", RouterNS, "-c", "configure terminal"}
	for _, l := range lines {
		args = append(args, "-c", l)
	}
	out, err := exec.CommandContext(ctx, "vtysh", args...).Output()
	if err != nil || strings.Contains(string(out), "%") {
		return fmt.Errorf("vtysh config %q: %v: %s", lines, err, out)
	}
	return nil
}

// RestartRouter stops FRR and starts it again with the lab's
// configuration: every session and route must come back.
func (l *Lab) RestartRouter(ctx context.Context) error {
	for i := len(l.Router) - 1; i >= 0; i-- {
		l.Router[i].Stop(5 * time.Second)
	}
	// zebra's socket survives it; bgpd must wait for the new one.
	_ = os.Remove(FRRRunDir + "/zserv.api")
	procs, err := startRouter(ctx, len(l.Nodes))
	l.Router = procs
	return err
}

// PollUntil calls cond every interval until it reports done or fails, or
// timeout passes. It is for the benchmarks' long waits.
func PollUntil(ctx context.Context, interval, timeout time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
