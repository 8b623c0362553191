package explain

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/heraldlb/herald/internal/plan"
)

// bgp explains the BGP side of ip, nil when no BGPAdvertisement selects
// its pool.
func (w world) bgp(ip netip.Addr, pool string, svc plan.Service) []string {
	var names, matching []string
	for _, a := range w.cfg.BGP {
		if a.Selects(pool) {
			names = append(names, a.Name)
			if a.SelectsService(svc.Labels) {
				matching = append(matching, a.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	if len(matching) == 0 {
		return []string{unselected("BGP: BGPAdvertisement", names, pool, ip)}
	}
	names = matching
	out := []string{fmt.Sprintf("BGP: BGPAdvertisement %s selects pool %s.", strings.Join(names, ", "), pool)}
	sessions, established := w.sessions(ip)
	out = append(out, sessions...)
	switch {
	case len(sessions) == 0:
		out = append(out, fmt.Sprintf("No HeraldNode says it advertises %s over BGP (yet).", ip))
	case !established:
		out = append(out, fmt.Sprintf("No BGP session that carries %s is Established: no router learns it from Herald.", ip))
	}
	return out
}

// sessions says, per HeraldNode, the BGP sessions whose prefixes cover ip:
// those Established advertise it, the others only would once up (the
// speaker lists what its plan sends to a peer whatever the session's
// state). established reports whether any is Established.
func (w world) sessions(ip netip.Addr) (out []string, established bool) {
	for _, n := range w.speakers {
		var up []string
		var down []string
		for _, peer := range n.Status.BGPPeers {
			for _, x := range peer.Prefixes {
				p, err := netip.ParsePrefix(x)
				switch {
				case err != nil || !p.Contains(ip):
				case peer.State == "Established":
					up = append(up, fmt.Sprintf("%s (%s, session Established)", peer.Name, p))
				default:
					down = append(down, fmt.Sprintf("Node %s would advertise it to %s (%s), but the session is %s%s.", n.Name, peer.Name, p, peer.State, colon(peer.LastError)))
				}
			}
		}
		if len(up) > 0 {
			out = append(out, fmt.Sprintf("Node %s advertises it to %s.", n.Name, strings.Join(up, ", ")))
		}
		out, established = append(out, down...), established || len(up) > 0
	}
	return out, established
}

// colon is ": why", or nothing when why is empty.
func colon(why string) string {
	if why == "" {
		return ""
	}
	return ": " + why
}
