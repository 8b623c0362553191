package plan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
)

// Plan is what the speakers announce, as one speaker sees it.
type Plan struct {
	Self string
	// Claim is the quorum verdict the plan was made with.
	Claim bool
	// L2 has an entry for every IP that Layer 2 mode announces, sorted by
	// IP, whoever wins it.
	L2 []L2
	// BGP is this node's sessions and routes. Unlike Layer 2 it needs no
	// quorum: every eligible node advertises, and the routers spread the
	// traffic.
	BGP BGP
	// Unannounced lists, sorted, every Service IP that nobody announces in
	// either mode, with the reason.
	Unannounced []Unannounced
	// Reporter is the speaker that tells users about Unannounced IPs, so
	// that they get one Event, not one per node: the first alive member by
	// name.
	Reporter string
}

// L2 is one IP announced over ARP or NDP.
type L2 struct {
	IP       netip.Addr
	Pool     string
	Services []string
	// Winner is the node that answers for the IP.
	Winner string
	// Interfaces are where the winner answers. For another node that falls
	// back to every link they are unknown here, and empty.
	Interfaces []string
	// Fallback: no allowed interface has a subnet containing the IP, and no
	// L2Advertisement names interfaces, so the winner answers on every link.
	Fallback bool
}

// Unannounced is a Service IP that no node announces.
type Unannounced struct {
	Service string
	IP      netip.Addr
	Reason  string
}

// Mine returns the entries this speaker must announce: those it wins, while
// it has quorum.
func (p Plan) Mine() []L2 {
	if !p.Claim {
		return nil
	}
	var out []L2
	for _, e := range p.L2 {
		if e.Winner == p.Self {
			out = append(out, e)
		}
	}
	return out
}

// target is one IP with the Services that have it.
type target struct {
	ip       netip.Addr
	services []*Service
}

// Compute returns the plan for in. It does not modify in.
func Compute(in Inputs) Plan {
	p := Plan{Self: in.Self, Claim: in.Claim}
	pl := &planner{in: in, nodes: map[string]Node{}, members: map[string]Member{}, pools: map[string]*poolPlan{},
		paths: map[string]map[netip.Prefix]*Path{}}
	for _, n := range in.Nodes {
		pl.nodes[n.Name] = n
	}
	for _, m := range in.Members {
		if m.Name == in.Self {
			m.Links, m.AnyLink = Gossip(in.SelfLinks, in.Config), len(in.SelfLinks) > 0
		}
		pl.members[m.Name] = m
		if p.Reporter == "" || m.Name < p.Reporter {
			p.Reporter = m.Name
		}
	}
	p.BGP.Sessions, p.BGP.Problems = Sessions(in)
	pl.sessions = p.BGP.Sessions
	pl.bySvc = slices.ContainsFunc(in.Config.L2, func(a config.L2Advertisement) bool { return len(a.ServiceSelectors) > 0 }) ||
		slices.ContainsFunc(in.Config.BGP, func(a config.BGPAdvertisement) bool { return len(a.ServiceSelectors) > 0 })
	for _, t := range targets(in.Services) {
		pp, whyPool := pl.pool(t)
		whyL2, whyBGP := whyPool, whyPool
		if pp != nil {
			var entry L2
			entry, whyL2 = pl.planL2(t, pp)
			whyBGP = pl.planBGP(t, pp)
			if whyL2 == "" {
				p.L2 = append(p.L2, entry)
			}
		}
		if whyL2 == "" || whyBGP == "" {
			continue
		}
		why := combine(whyL2, whyBGP, pp != nil && pp.hasL2, pp != nil && pp.hasBGP)
		for _, s := range t.services {
			p.Unannounced = append(p.Unannounced, Unannounced{Service: s.Key, IP: t.ip, Reason: why})
		}
	}
	p.BGP.Paths, p.BGP.Advertised = sortedPaths(pl.paths), pl.advertised
	p.BGP.limit()
	slices.SortFunc(p.Unannounced, func(a, b Unannounced) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), a.IP.Compare(b.IP))
	})
	return p
}

// targets groups the Services by IP, sorted by IP; Services sharing an IP
// are sorted by key.
func targets(svcs []Service) []target {
	by := map[netip.Addr][]*Service{}
	for i := range svcs {
		for _, ip := range svcs[i].IPs {
			by[ip] = append(by[ip], &svcs[i])
		}
	}
	out := make([]target, 0, len(by))
	for ip, ss := range by {
		slices.SortFunc(ss, func(a, b *Service) int { return cmp.Compare(a.Key, b.Key) })
		ss = slices.CompactFunc(ss, func(a, b *Service) bool { return a.Key == b.Key })
		out = append(out, target{ip: ip, services: ss})
	}
	slices.SortFunc(out, func(a, b target) int { return a.ip.Compare(b.ip) })
	return out
}

// planL2 returns the Layer 2 entry for t, of pool pp, or why nobody
// announces it.
func (pl *planner) planL2(t target, pp *poolPlan) (L2, string) {
	if pp.l2Why != "" {
		return L2{}, pp.l2Why
	}
	entry := L2{IP: t.ip, Pool: pp.name}
	for _, s := range t.services {
		entry.Services = append(entry.Services, s.Key)
	}
	cands := pp.l2Cands
	ready := false
	for _, s := range t.services {
		if !s.Ready {
			continue
		}
		ready = true
		if s.Local {
			cands = slices.DeleteFunc(slices.Clone(cands), func(n string) bool { return !slices.Contains(s.ReadyNodes, n) })
		}
	}
	if !ready {
		return L2{}, "no endpoint of the Service is ready"
	}
	if len(cands) == 0 {
		return L2{}, "no eligible node has a ready endpoint, as externalTrafficPolicy Local requires"
	}
	var live []string
	for _, n := range cands {
		m, ok := pl.members[n]
		if !ok || m.Settling {
			continue
		}
		ifaces, fallback := interfacesFor(t.ip, m.Links, *pp.allow[n])
		if len(ifaces) > 0 || fallback && m.AnyLink {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return L2{}, fmt.Sprintf("no speaker that could announce it is alive with a usable interface (eligible nodes: %s)", strings.Join(cands, ", "))
	}
	live = pl.preferUncordoned(live)
	entry.Winner, _ = election.Winner(t.ip, live)
	entry.Interfaces, entry.Fallback = interfacesFor(t.ip, pl.members[entry.Winner].Links, *pp.allow[entry.Winner])
	if entry.Fallback && entry.Winner == pl.in.Self {
		for _, l := range pl.in.SelfLinks {
			entry.Interfaces = append(entry.Interfaces, l.Name)
		}
		slices.Sort(entry.Interfaces)
	}
	return entry, ""
}

// preferUncordoned returns the nodes that are not cordoned, or all of
// them if every one is.
func (pl *planner) preferUncordoned(nodes []string) []string {
	up := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return pl.nodes[n].Cordoned })
	if len(up) == 0 {
		return nodes
	}
	return up
}

// keep returns the sorted keys of from for which ok holds.
func keep[V any](from map[string]V, ok func(string) bool) []string {
	var out []string
	for n := range from {
		if ok(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func advNames(advs []config.L2Advertisement) string {
	names := make([]string, 0, len(advs))
	for _, a := range advs {
		names = append(names, a.Name)
	}
	return "L2Advertisement " + strings.Join(names, ", ")
}
