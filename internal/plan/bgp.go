package plan

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/heraldlb/herald/internal/config"
)

// Family is a BGP address family the sessions carry.
type Family int

const (
	IPv4Unicast Family = iota + 1
	IPv6Unicast
)

// config returns the configuration's name of the family.
func (f Family) config() config.Family {
	if f == IPv4Unicast {
		return config.IPv4
	}
	return config.IPv6
}

func familyFrom(f config.Family) Family {
	if f == config.IPv4 {
		return IPv4Unicast
	}
	return IPv6Unicast
}

// BGP is what this node does over BGP: its sessions, and what each one
// advertises.
type BGP struct {
	Sessions []Session
	// Paths are, by session name, the routes it advertises, sorted.
	Paths map[string][]Path
	// Advertised lists, per Service IP this node advertises, the route and
	// the sessions it goes to, for Events and the record.
	Advertised []Advertised
	// Problems are, by BGPPeer name, why a session this node should open is
	// not opened.
	Problems map[string]string
	// Limits are, by session name, the sessions with a MaxPrefixes: how
	// many routes each would advertise, and its limit (see limit).
	Limits map[string]Limit
}

// Session is one BGP session of this node.
type Session struct {
	Name                                 string
	MyASN, PeerASN                       uint32
	DynamicASN                           string
	PeerAddress                          netip.Addr
	PeerPort                             uint16
	SourceAddress                        netip.Addr
	RouterID                             netip.Addr
	HoldTime, KeepaliveTime, ConnectTime time.Duration
	EBGPMultiHop                         bool
	Password                             string
	GracefulRestart                      bool
	// Families are the families the session carries (the BGPPeer's
	// addressFamilies, dualStackAddressFamily and disableMP); a route of
	// another family does not go to it.
	Families []Family
	// MaxPrefixes is the most routes the session advertises; 0: no limit.
	MaxPrefixes int
	// NextHop4 and NextHop6 are this node's addresses for routes of each
	// family: its own address on the session, and for the other family its
	// address of that family.
	NextHop4, NextHop6 netip.Addr
}

// Path is one route a session advertises.
type Path struct {
	Prefix           netip.Prefix
	Communities      []uint32
	LargeCommunities []config.LargeCommunity
	LocalPref        *uint32
}

// Advertised is one Service IP this node advertises.
type Advertised struct {
	IP       netip.Addr
	Prefix   netip.Prefix
	Services []string
	Sessions []string
}

// bgpInputs are what BGP planning needs beyond Inputs' common fields.
type bgpInputs struct {
	self       Node
	addrs      []netip.Addr
	passwords  map[config.SecretRef]string
	unreadable map[config.SecretRef]bool
}

// Sessions returns this node's BGP sessions, and why each peer that
// selects it has none, as Compute plans them. Only Self, Config, the self
// Node among Nodes, SelfAddrs, Passwords and Unreadable count: a starting
// speaker opens its sessions from these before it has listed the
// Services, and the first plan then finds them unchanged.
func Sessions(in Inputs) ([]Session, map[string]string) {
	var self Node
	if i := slices.IndexFunc(in.Nodes, func(n Node) bool { return n.Name == in.Self }); i >= 0 {
		self = in.Nodes[i]
	}
	self.Name = in.Self
	return planSessions(in.Config, bgpInputs{self: self, addrs: in.SelfAddrs, passwords: in.Passwords, unreadable: in.Unreadable})
}

// planSessions returns the sessions of the peers that select this node.
func planSessions(cfg config.Announce, in bgpInputs) ([]Session, map[string]string) {
	var out []Session
	problems := map[string]string{}
	for _, p := range cfg.Peers {
		if !p.SelectsNode(in.self.Labels) {
			continue
		}
		s := Session{
			Name: p.Name, MyASN: p.MyASN, PeerASN: p.PeerASN, DynamicASN: p.DynamicASN,
			PeerAddress: p.PeerAddress, PeerPort: p.PeerPort, SourceAddress: p.SourceAddress, RouterID: p.RouterID,
			HoldTime: p.HoldTime, KeepaliveTime: p.KeepaliveTime, ConnectTime: p.ConnectTime,
			EBGPMultiHop: p.EBGPMultiHop, Password: p.Password, GracefulRestart: p.GracefulRestart,
			MaxPrefixes: p.MaxPrefixes,
		}
		for _, f := range p.Families {
			s.Families = append(s.Families, familyFrom(f))
		}
		if ref := p.PasswordSecret; ref != nil {
			pw, ok := in.passwords[*ref]
			switch {
			case !ok && in.unreadable[*ref]:
				problems[p.Name] = fmt.Sprintf("the speaker may not read Secret %s/%s yet (the controller grants the speakers each Secret a BGPPeer names, in herald-system only): the session is not opened without its TCP MD5 password", ref.Namespace, ref.Name)
				continue
			case !ok:
				problems[p.Name] = fmt.Sprintf("Secret %s/%s, key \"password\", is missing or empty: the session is not opened without its TCP MD5 password", ref.Namespace, ref.Name)
				continue
			}
			s.Password = pw
		}
		s.NextHop4, s.NextHop6 = first(in.addrs, true), first(in.addrs, false)
		if src := p.SourceAddress; src.IsValid() {
			if src.Is4() {
				s.NextHop4 = src
			} else {
				s.NextHop6 = src
			}
		}
		if !s.RouterID.IsValid() {
			s.RouterID = s.NextHop4
		}
		if !s.RouterID.IsValid() {
			problems[p.Name] = "the node has no IPv4 address to use as BGP router ID: set routerID in the BGPPeer"
			continue
		}
		out = append(out, s)
	}
	return out, problems
}

func first(addrs []netip.Addr, v4 bool) netip.Addr {
	for _, a := range addrs {
		if a.Is4() == v4 {
			return a
		}
	}
	return netip.Addr{}
}

// eligibleForServices reports whether node suits every Service of t that
// has a ready endpoint and externalTrafficPolicy Local.
func eligibleForServices(t target, node string) bool {
	for _, s := range t.services {
		if s.Ready && s.Local && !slices.Contains(s.ReadyNodes, node) {
			return false
		}
	}
	return true
}

// GracefulShutdownCommunity is GRACEFUL_SHUTDOWN (RFC 8326), 65535:0.
const GracefulShutdownCommunity uint32 = 0xFFFF0000

// planBGP adds this node's routes for t, of pool pp, and returns why no
// node advertises t ("" when some node does).
func (pl *planner) planBGP(t target, pp *poolPlan) string {
	if pp.bgpWhy != "" {
		return pp.bgpWhy
	}
	ready, local := false, false
	for _, s := range t.services {
		ready = ready || s.Ready
		local = local || s.Ready && s.Local
	}
	why := ""
	anywhere := false
	var mine []string
	var prefix netip.Prefix
	fam := config.FamilyOf(t.ip)
	for _, ap := range pp.bgp {
		nodes := pl.bgpNodes(t, ap, local)
		ok, whyNot := bgpReason(ap, nodes, ready, fam)
		if ok {
			anywhere = true
		} else {
			why = whyNot
		}
		advertise := ok && slices.Contains(nodes, pl.in.Self)
		// A leaving node keeps what it advertised, tagged, for its
		// graceful-shutdown period, whether or not another node takes over.
		draining := !advertise && ready && pl.in.GracefulShutdown && ap.selectsSelf &&
			(!local || eligibleForServices(t, pl.in.Self))
		if !advertise && !draining {
			continue
		}
		prefix = ap.adv.Aggregate(t.ip)
		for _, s := range ap.sessions[fam] {
			mine = append(mine, s)
			pl.addPath(s, prefix, ap.adv, draining)
		}
	}
	if len(mine) > 0 {
		slices.Sort(mine)
		e := Advertised{IP: t.ip, Prefix: prefix, Sessions: slices.Compact(mine)}
		for _, s := range t.services {
			e.Services = append(e.Services, s.Key)
		}
		pl.advertised = append(pl.advertised, e)
	}
	if anywhere {
		return ""
	}
	return why
}

// bgpNodes are the nodes that advertise t for ap: fit, with a ready local
// endpoint under externalTrafficPolicy Local, and not cordoned unless
// every such node with a session is.
func (pl *planner) bgpNodes(t target, ap bgpAdvPlan, local bool) []string {
	nodes := ap.nodes
	if local {
		nodes = slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return !eligibleForServices(t, n) })
	}
	up := slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return pl.nodes[n].Cordoned })
	peered := ap.peered[config.FamilyOf(t.ip)]
	if slices.ContainsFunc(up, func(n string) bool { return peered[n] }) {
		return up
	}
	return nodes
}

// bgpReason reports whether some node advertises for ap routes of family
// fam, or why none does.
func bgpReason(ap bgpAdvPlan, nodes []string, ready bool, fam config.Family) (bool, string) {
	peered := func(f config.Family) bool {
		return slices.ContainsFunc(nodes, func(n string) bool { return ap.peered[f][n] })
	}
	switch {
	case !ready:
		return false, "no endpoint of the Service is ready"
	case len(nodes) == 0:
		return false, "no node that BGPAdvertisement " + ap.adv.Name + " selects can advertise it (excluded, out of service, gone, or no ready local endpoint as externalTrafficPolicy Local requires)"
	case !peered(fam) && peered(otherFamily(fam)):
		return false, "no session of the nodes that BGPAdvertisement " + ap.adv.Name + " selects to its peers carries " + string(fam) + " (see the BGPPeers' addressFamilies, dualStackAddressFamily and disableMP)"
	case !peered(fam):
		return false, "no node that BGPAdvertisement " + ap.adv.Name + " selects has a session to its peers"
	}
	return true, ""
}

func otherFamily(f config.Family) config.Family {
	if f == config.IPv4 {
		return config.IPv6
	}
	return config.IPv4
}

// addPath adds a's communities and local preference to session's route
// for prefix. A draining route also carries GRACEFUL_SHUTDOWN, and on an
// iBGP session LOCAL_PREF 0, as RFC 8326 lets the node that shuts down set
// it itself.
func (pl *planner) addPath(session string, prefix netip.Prefix, a config.BGPAdvertisement, draining bool) {
	if pl.paths[session] == nil {
		pl.paths[session] = map[netip.Prefix]*Path{}
	}
	p := pl.paths[session][prefix]
	if p == nil {
		p = &Path{Prefix: prefix}
		pl.paths[session][prefix] = p
	}
	p.Communities = append(p.Communities, a.Communities...)
	p.LargeCommunities = append(p.LargeCommunities, a.LargeCommunities...)
	if draining {
		p.Communities = append(p.Communities, GracefulShutdownCommunity)
		if i := slices.IndexFunc(pl.sessions, func(s Session) bool { return s.Name == session }); i >= 0 && pl.sessions[i].MyASN == pl.sessions[i].PeerASN {
			zero := uint32(0)
			p.LocalPref = &zero
			return
		}
	}
	if a.LocalPref != nil && (p.LocalPref == nil || *a.LocalPref > *p.LocalPref) {
		p.LocalPref = a.LocalPref
	}
}

// sortedPaths turns the per-session path sets into sorted lists with sorted,
// unique communities.
func sortedPaths(in map[string]map[netip.Prefix]*Path) map[string][]Path {
	out := map[string][]Path{}
	for name, set := range in {
		for _, p := range set {
			slices.Sort(p.Communities)
			p.Communities = slices.Compact(p.Communities)
			slices.SortFunc(p.LargeCommunities, func(x, y config.LargeCommunity) int {
				return cmp.Or(cmp.Compare(x.Global, y.Global), cmp.Compare(x.Local1, y.Local1), cmp.Compare(x.Local2, y.Local2))
			})
			p.LargeCommunities = slices.Compact(p.LargeCommunities)
			out[name] = append(out[name], *p)
		}
		slices.SortFunc(out[name], func(a, b Path) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	}
	return out
}

// combine merges the two modes' reasons into one for the user: the reason
// of the only mode configured for the IP's pool, or both.
func combine(l2, bgp string, hasL2, hasBGP bool) string {
	switch {
	case l2 == bgp:
		return l2
	case hasL2 && !hasBGP:
		return l2
	case hasBGP && !hasL2:
		return bgp
	case !hasL2 && !hasBGP:
		return strings.Replace(l2, "no L2Advertisement", "no L2Advertisement or BGPAdvertisement", 1)
	}
	return "Layer 2: " + l2 + "; BGP: " + bgp
}
