package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/plan"
)

// Router speaks BGP for this node (internal/bgp).
type Router interface {
	Run(ctx context.Context) error
	Set(ctx context.Context, d bgp.Desired) error
	Status() []bgp.PeerStatus
}

// bgpDesired turns the plan's BGP part into what the adapter applies.
func bgpDesired(p plan.BGP) bgp.Desired {
	d := bgp.Desired{Paths: map[string][]bgp.Path{}}
	for _, s := range p.Sessions {
		bs := bgp.Session{
			Name: s.Name, MyASN: s.MyASN, PeerASN: s.PeerASN, DynamicASN: s.DynamicASN,
			PeerAddress: s.PeerAddress, PeerPort: s.PeerPort, SourceAddress: s.SourceAddress, RouterID: s.RouterID,
			HoldTime: s.HoldTime, KeepaliveTime: s.KeepaliveTime, ConnectTime: s.ConnectTime,
			EBGPMultiHop: s.EBGPMultiHop, Password: s.Password, GracefulRestart: s.GracefulRestart,
			NextHop4: s.NextHop4, NextHop6: s.NextHop6,
		}
		for _, f := range s.Families {
			switch f {
			case plan.IPv4Unicast:
				bs.Families = append(bs.Families, bgp.IPv4Unicast)
			case plan.IPv6Unicast:
				bs.Families = append(bs.Families, bgp.IPv6Unicast)
			}
		}
		d.Sessions = append(d.Sessions, bs)
		paths := []bgp.Path{} // an empty list, not nil: the session advertises nothing
		for _, x := range p.Paths[s.Name] {
			bp := bgp.Path{Prefix: x.Prefix, Communities: x.Communities, LocalPref: x.LocalPref}
			for _, l := range x.LargeCommunities {
				bp.LargeCommunities = append(bp.LargeCommunities, bgp.LargeCommunity{Global: l.Global, Local1: l.Local1, Local2: l.Local2})
			}
			paths = append(paths, bp)
		}
		d.Paths[s.Name] = paths
	}
	return d
}

// applyBGP hands the newest desired BGP state to the router, one Set at a
// time, so that the loop never waits on GoBGP. A failed Set is retried
// after retry, unless a newer state comes first.
func (s *Speaker) applyBGP(ctx context.Context, in <-chan bgp.Desired, retry time.Duration) {
	var pending *bgp.Desired
	var again <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-in:
			pending = &d
		case <-again:
			again = nil
		}
		if pending == nil || again != nil {
			continue
		}
		d := *pending
		if err := s.deps.Router.Set(ctx, d); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.opts.Log.Error(err, "BGP: could not apply everything; will retry", "retryIn", retry)
			again = s.opts.Clock.After(retry)
			continue
		}
		pending = nil
	}
}

// offer puts d in the one-slot channel, replacing what is waiting there.
func offer(ch chan bgp.Desired, d bgp.Desired) {
	for {
		select {
		case ch <- d:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// advertiseNotices returns the Events for the IPs this node starts to
// advertise over BGP, or advertises to other peers than before.
func advertiseNotices(node string, prev, next []plan.Advertised) []notice {
	before := map[netip.Addr]plan.Advertised{}
	for _, a := range prev {
		before[a.IP] = a
	}
	var out []notice
	for _, a := range next {
		if b, ok := before[a.IP]; ok && b.Prefix == a.Prefix && slices.Equal(b.Sessions, a.Sessions) {
			continue
		}
		msg := fmt.Sprintf("node %s advertises %s over BGP as %s to peers %s", node, a.IP, a.Prefix, strings.Join(a.Sessions, ", "))
		for _, svc := range a.Services {
			out = append(out, notice{service: svc, typ: "Normal", reason: ReasonAdvertising, message: msg})
		}
	}
	return out
}

// bgpRecord renders the node's BGP part of its record: each peer's state
// with why it is down, and the routes sent to it.
func bgpRecord(status []bgp.PeerStatus, p plan.BGP) (peers, routes string) {
	var pb, rb strings.Builder
	for _, st := range status {
		fmt.Fprintf(&pb, "%s %s %s prefixes=%d", st.Name, st.PeerAddress, st.State, st.PrefixesSent)
		if st.LastError != "" && !st.Established {
			fmt.Fprintf(&pb, " error=%q", st.LastError)
		}
		pb.WriteString("\n")
	}
	names := make([]string, 0, len(p.Problems))
	for name := range p.Problems {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&pb, "%s not opened: %s\n", name, p.Problems[name])
	}
	pb.WriteString(limitRecord(p.Limits))
	for _, s := range p.Sessions {
		for _, x := range p.Paths[s.Name] {
			fmt.Fprintf(&rb, "%s %s\n", s.Name, x.Prefix)
		}
	}
	return pb.String(), rb.String()
}
