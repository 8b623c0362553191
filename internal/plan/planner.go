package plan

import (
	"fmt"
	"net/netip"
	"slices"

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
	// bySvc: some advertisement has serviceSelectors, so that pool plans
	// depend on the Services' labels (see pool).
	bySvc bool
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
	// peered, by family, those of them with a session it goes to that
	// carries the family. selectsSelf: it selects this node, fit or not,
	// which may then be shutting down gracefully.
	nodes       []string
	peered      map[config.Family]map[string]bool
	selectsSelf bool
	// sessions are, by family, this node's sessions it goes to that carry
	// the family.
	sessions map[config.Family][]string
}

// pool returns the plan of ip's pool for t's Services, or why ip has none.
// Advertisements with serviceSelectors apply to an IP when one of its
// Services matches; a pool's plan is shared by the IPs to which the same
// advertisements apply, so that without serviceSelectors it is made once.
func (pl *planner) pool(t target) (*poolPlan, string) {
	p, ok := pl.in.Config.PoolOf(t.ip)
	if !ok {
		return nil, fmt.Sprintf("IP %s is in no IPAddressPool in force, so no node announces it", t.ip)
	}
	key := p.Name
	if pl.bySvc {
		_, _, key = pl.advertisementsFor(p.Name, t)
	}
	if pp := pl.pools[key]; pp != nil {
		return pp, ""
	}
	l2, bgp, _ := pl.advertisementsFor(p.Name, t)
	pp := &poolPlan{name: p.Name}
	pl.planPoolL2(pp, l2)
	pl.planPoolBGP(pp, bgp)
	pl.pools[key] = pp
	return pp, ""
}

// advertisementsFor returns the advertisements of pool that apply to t,
// and the key of the pool plan they make: the pool's name, followed by one
// mark per advertisement of the pool with serviceSelectors.
func (pl *planner) advertisementsFor(pool string, t target) ([]config.L2Advertisement, []config.BGPAdvertisement, string) {
	key := []byte(pool)
	applies := func(selects bool, hasSel bool, match func(map[string]string) bool) bool {
		if !selects || !hasSel {
			return selects
		}
		ok := slices.ContainsFunc(t.services, func(s *Service) bool { return match(s.Labels) })
		mark := byte('-')
		if ok {
			mark = '+'
		}
		key = append(key, mark)
		return ok
	}
	var l2 []config.L2Advertisement
	for _, a := range pl.in.Config.L2 {
		if applies(a.Selects(pool), len(a.ServiceSelectors) > 0, a.SelectsService) {
			l2 = append(l2, a)
		}
	}
	var bgp []config.BGPAdvertisement
	for _, a := range pl.in.Config.BGP {
		if applies(a.Selects(pool), len(a.ServiceSelectors) > 0, a.SelectsService) {
			bgp = append(bgp, a)
		}
	}
	return l2, bgp, string(key)
}

// noneSelects says why no advertisement of kind applies to an IP of pool:
// some selects the pool, but not the Service by its labels.
func noneSelects(kind, pool string, some bool) string {
	if some {
		return fmt.Sprintf("no %s that selects pool %q selects the Service by its labels (serviceSelectors)", kind, pool)
	}
	return fmt.Sprintf("no %s selects pool %q", kind, pool)
}

func (pl *planner) planPoolL2(pp *poolPlan, advs []config.L2Advertisement) {
	// hasL2 is whether the pool is announced over Layer 2 at all, which
	// decides the reason Services of the pool are told.
	pp.hasL2 = slices.ContainsFunc(pl.in.Config.L2, func(a config.L2Advertisement) bool { return a.Selects(pp.name) })
	if len(advs) == 0 {
		pp.l2Why = noneSelects("L2Advertisement", pp.name, pp.hasL2)
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

func (pl *planner) planPoolBGP(pp *poolPlan, advs []config.BGPAdvertisement) {
	for _, a := range advs {
		ap := bgpAdvPlan{adv: a, peered: map[config.Family]map[string]bool{}, sessions: map[config.Family][]string{}}
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
				if !a.ToPeer(p.Name) || !p.SelectsNode(n.Labels) {
					continue
				}
				for _, f := range p.Families {
					if ap.peered[f] == nil {
						ap.peered[f] = map[string]bool{}
					}
					ap.peered[f][n.Name] = true
				}
			}
		}
		for _, s := range pl.sessions {
			if a.ToPeer(s.Name) {
				for _, f := range s.Families {
					ap.sessions[f.config()] = append(ap.sessions[f.config()], s.Name)
				}
			}
		}
		pp.bgp = append(pp.bgp, ap)
	}
	pp.hasBGP = slices.ContainsFunc(pl.in.Config.BGP, func(a config.BGPAdvertisement) bool { return a.Selects(pp.name) })
	if len(pp.bgp) == 0 {
		pp.bgpWhy = noneSelects("BGPAdvertisement", pp.name, pp.hasBGP)
	}
}
