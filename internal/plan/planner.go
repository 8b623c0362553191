package plan

import (
	"fmt"
	"net/netip"

	"github.com/heraldlb/herald/internal/config"
)

// planner is one Compute: its inputs, and what it has worked out per pool,
// which every IP of the pool shares. Per IP only what depends on its
// Services is left: endpoints, live speakers, the hash.
type planner struct {
	in         Inputs
	nodes      map[string]Node
	members    map[string]Member
	pools      map[string]*poolPlan
	sessions   []Session
	paths      map[string]map[netip.Prefix]*Path
	advertised []Advertised
}

// poolPlan is what holds for every IP of one pool.
type poolPlan struct {
	name          string
	hasL2, hasBGP bool
	// l2Why says why no IP of the pool can be announced over Layer 2,
	// whatever its Services; otherwise l2Cands are the nodes the
	// L2Advertisements select that are not excluded (sorted), and allow
	// what each may use.
	l2Why   string
	l2Cands []string
	allow   map[string]*allowance
	// bgpWhy is the same for BGP; otherwise bgp has one entry per
	// BGPAdvertisement of the pool, in configuration order.
	bgpWhy string
	bgp    []bgpAdvPlan
}

// bgpAdvPlan is one BGPAdvertisement as it applies to a pool.
type bgpAdvPlan struct {
	adv config.BGPAdvertisement
	// nodes it selects that are fit (Node.Fit), in the order of the Nodes;
	// peered those of them with a session it goes to. selectsSelf: it
	// selects this node, fit or not, which may then be shutting down
	// gracefully.
	nodes       []string
	peered      map[string]bool
	selectsSelf bool
	// sessions are this node's sessions it goes to.
	sessions []string
}

// pool returns the plan of ip's pool, or why ip has none.
func (pl *planner) pool(ip netip.Addr) (*poolPlan, string) {
	p, ok := pl.in.Config.PoolOf(ip)
	if !ok {
		return nil, fmt.Sprintf("IP %s is in no IPAddressPool in force, so no node announces it", ip)
	}
	if pp := pl.pools[p.Name]; pp != nil {
		return pp, ""
	}
	pp := &poolPlan{name: p.Name}
	pl.planPoolL2(pp)
	pl.planPoolBGP(pp)
	pl.pools[p.Name] = pp
	return pp, ""
}

func (pl *planner) planPoolL2(pp *poolPlan) {
	var advs []config.L2Advertisement
	for _, a := range pl.in.Config.L2 {
		if a.Selects(pp.name) {
			advs = append(advs, a)
		}
	}
	pp.hasL2 = len(advs) > 0
	if !pp.hasL2 {
		pp.l2Why = fmt.Sprintf("no L2Advertisement selects pool %q", pp.name)
		return
	}
	pp.allow = map[string]*allowance{}
	for _, n := range pl.in.Nodes {
		for _, a := range advs {
			if a.SelectsNode(n.Labels) {
				if pp.allow[n.Name] == nil {
					pp.allow[n.Name] = &allowance{}
				}
				pp.allow[n.Name].add(a.Interfaces)
			}
		}
	}
	if len(pp.allow) == 0 {
		pp.l2Why = fmt.Sprintf("no node matches the nodeSelectors of %s", advNames(advs))
		return
	}
	pp.l2Cands = keep(pp.allow, func(n string) bool { return pl.nodes[n].Fit() })
	if len(pp.l2Cands) == 0 {
		pp.l2Why = fmt.Sprintf("every node %s selects is labelled %s, tainted %s, NotReady for more than %s, or has NetworkUnavailable", advNames(advs), LabelExcludeFromLB, TaintOutOfService, GoneAfter)
	}
}

func (pl *planner) planPoolBGP(pp *poolPlan) {
	for _, a := range pl.in.Config.BGP {
		if !a.Selects(pp.name) {
			continue
		}
		ap := bgpAdvPlan{adv: a, peered: map[string]bool{}}
		for _, n := range pl.in.Nodes {
			if !a.SelectsNode(n.Labels) {
				continue
			}
			if n.Name == pl.in.Self {
				ap.selectsSelf = true
			}
			if !n.Fit() {
				continue
			}
			ap.nodes = append(ap.nodes, n.Name)
			for _, p := range pl.in.Config.Peers {
				if a.ToPeer(p.Name) && p.SelectsNode(n.Labels) {
					ap.peered[n.Name] = true
				}
			}
		}
		for _, s := range pl.sessions {
			if a.ToPeer(s.Name) {
				ap.sessions = append(ap.sessions, s.Name)
			}
		}
		pp.bgp = append(pp.bgp, ap)
	}
	pp.hasBGP = len(pp.bgp) > 0
	if !pp.hasBGP {
		pp.bgpWhy = fmt.Sprintf("no BGPAdvertisement selects pool %q", pp.name)
	}
}
