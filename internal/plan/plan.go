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
	nodes := map[string]Node{}
	for _, n := range in.Nodes {
		nodes[n.Name] = n
	}
	members := map[string]Member{}
	for _, m := range in.Members {
		if m.Name == in.Self {
			m.Links, m.AnyLink = Gossip(in.SelfLinks, in.Config), len(in.SelfLinks) > 0
		}
		members[m.Name] = m
		if p.Reporter == "" || m.Name < p.Reporter {
			p.Reporter = m.Name
		}
	}
	bi := bgpInputs{self: nodes[in.Self], addrs: in.SelfAddrs, passwords: in.Passwords}
	bi.self.Name = in.Self
	p.BGP.Sessions, p.BGP.Problems = planSessions(in.Config, bi)
	paths := map[string]map[netip.Prefix]*Path{}
	for _, t := range targets(in.Services) {
		entry, whyL2 := planL2(t, in, nodes, members)
		whyBGP := planBGP(t, in, bi, p.BGP.Sessions, paths, &p.BGP.Advertised)
		if whyL2 == "" {
			p.L2 = append(p.L2, entry)
		}
		if whyL2 == "" || whyBGP == "" {
			continue
		}
		why := combine(whyL2, whyBGP, in.Config.Covers(t.ip, "L2"), in.Config.Covers(t.ip, "BGP"))
		for _, s := range t.services {
			p.Unannounced = append(p.Unannounced, Unannounced{Service: s.Key, IP: t.ip, Reason: why})
		}
	}
	p.BGP.Paths = sortedPaths(paths)
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

// planL2 returns the Layer 2 entry for t, or why nobody announces it.
func planL2(t target, in Inputs, nodes map[string]Node, members map[string]Member) (L2, string) {
	pool, ok := in.Config.PoolOf(t.ip)
	if !ok {
		return L2{}, fmt.Sprintf("IP %s is in no IPAddressPool in force, so no node announces it", t.ip)
	}
	var advs []config.L2Advertisement
	for _, a := range in.Config.L2 {
		if a.Selects(pool.Name) {
			advs = append(advs, a)
		}
	}
	if len(advs) == 0 {
		return L2{}, fmt.Sprintf("no L2Advertisement selects pool %q", pool.Name)
	}
	entry := L2{IP: t.ip, Pool: pool.Name}
	for _, s := range t.services {
		entry.Services = append(entry.Services, s.Key)
	}

	// Nodes the advertisements select, with what each may use.
	allow := map[string]*allowance{}
	for _, n := range in.Nodes {
		for _, a := range advs {
			if a.SelectsNode(n.Labels) {
				if allow[n.Name] == nil {
					allow[n.Name] = &allowance{}
				}
				allow[n.Name].add(a.Interfaces)
			}
		}
	}
	if len(allow) == 0 {
		return L2{}, fmt.Sprintf("no node matches the nodeSelectors of %s", advNames(advs))
	}
	cands := keep(allow, func(n string) bool { return !nodes[n].Excluded && !nodes[n].NetworkUnavailable })
	if len(cands) == 0 {
		return L2{}, fmt.Sprintf("every node %s selects is labelled %s or has NetworkUnavailable", advNames(advs), LabelExcludeFromLB)
	}
	ready := false
	for _, s := range t.services {
		if !s.Ready {
			continue
		}
		ready = true
		if s.Local {
			cands = slices.DeleteFunc(cands, func(n string) bool { return !slices.Contains(s.ReadyNodes, n) })
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
		m, ok := members[n]
		if !ok || m.Settling {
			continue
		}
		ifaces, fallback := interfacesFor(t.ip, m.Links, *allow[n])
		if len(ifaces) > 0 || fallback && m.AnyLink {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return L2{}, fmt.Sprintf("no speaker that could announce it is alive with a usable interface (eligible nodes: %s)", strings.Join(cands, ", "))
	}
	entry.Winner, _ = election.Winner(t.ip, live)
	entry.Interfaces, entry.Fallback = interfacesFor(t.ip, members[entry.Winner].Links, *allow[entry.Winner])
	if entry.Fallback && entry.Winner == in.Self {
		for _, l := range in.SelfLinks {
			entry.Interfaces = append(entry.Interfaces, l.Name)
		}
		slices.Sort(entry.Interfaces)
	}
	return entry, ""
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
