package announcement

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Established is the BGP state of a session that carries routes.
const Established = "Established"

// Index holds what the HeraldNodes that count say, by IP: the Layer 2
// answers and the BGP sessions' prefixes. The leader builds it once per
// set of HeraldNodes and sums every Service up from it, since a HeraldNode
// write wakes every Service: scanning every node's lists for each Service
// would cost Services × listed IPs per write (20 s of CPU at 10,000
// Services on three nodes, BenchmarkWave).
type Index struct {
	layer2   map[netip.Addr][]layer2Entry
	prefixes map[netip.Prefix][]route
	// lengths are the prefix lengths in prefixes, longest first, per
	// family: an IP's covering prefixes are found by masking it to each.
	lengths4, lengths6 []int
	sessions           []session
}

type layer2Entry struct {
	node       string
	interfaces []string
	services   []string
}

// session is one node's BGP session, as its HeraldNode lists it.
type session struct {
	node, peer, address, state string
}

// route is a prefix a session sends, as written (it may not be masked).
type route struct {
	session int
	prefix  string
}

// NewIndex indexes the HeraldNodes that count: those whose Ready condition
// is True and that the other speakers see alive (Alive). A speaker that
// stopped, lost quorum or crashed says nothing current.
func NewIndex(nodes []v1beta1.HeraldNode) *Index {
	x := &Index{layer2: map[netip.Addr][]layer2Entry{}, prefixes: map[netip.Prefix][]route{}}
	alive, _ := Alive(nodes)
	lengths := map[bool]map[int]bool{true: {}, false: {}}
	for i := range nodes {
		n := &nodes[i]
		if !ready(n) || !alive[n.Name] {
			continue
		}
		x.addLayer2(n)
		for _, p := range n.Status.BGPPeers {
			x.addSession(n.Name, p, lengths)
		}
	}
	x.lengths4, x.lengths6 = longestFirst(lengths[true]), longestFirst(lengths[false])
	return x
}

func (x *Index) addLayer2(n *v1beta1.HeraldNode) {
	for _, a := range n.Status.Layer2 {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			continue
		}
		x.layer2[ip] = append(x.layer2[ip], layer2Entry{node: n.Name, interfaces: a.Interfaces, services: a.Services})
	}
}

// addSession indexes the prefixes of one session. Of prefixes that mask
// alike, the first listed stands for them, as a scan in order would pick.
func (x *Index) addSession(node string, p v1beta1.NodeBGPPeer, lengths map[bool]map[int]bool) {
	id := len(x.sessions)
	x.sessions = append(x.sessions, session{node: node, peer: p.Name, address: p.PeerAddress, state: p.State})
	for _, s := range p.Prefixes {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			continue
		}
		key := pf.Masked()
		if slices.ContainsFunc(x.prefixes[key], func(r route) bool { return r.session == id }) {
			continue
		}
		x.prefixes[key] = append(x.prefixes[key], route{session: id, prefix: pf.String()})
		lengths[pf.Addr().Is4()][pf.Bits()] = true
	}
}

func longestFirst(set map[int]bool) []int {
	out := make([]int, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b int) int { return cmp.Compare(b, a) })
	return out
}

// IPs returns one entry per IP of the Service svc and protocol it is
// announced over, sorted by IP then protocol; an IP nobody announces gets
// one entry with no protocol and no nodes.
func (x *Index) IPs(svc string, ips []netip.Addr) []v1beta1.AnnouncedIP {
	ips = slices.Clone(ips)
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	var out []v1beta1.AnnouncedIP
	for _, ip := range ips {
		n := len(out)
		for _, e := range []v1beta1.AnnouncedIP{x.layer2Of(svc, ip), x.bgpOf(ip)} {
			if len(e.Nodes) > 0 || len(e.Peers) > 0 {
				out = append(out, e)
			}
		}
		if len(out) == n {
			out = append(out, v1beta1.AnnouncedIP{IP: ip.String()})
		}
	}
	return out
}

// IPs is NewIndex(nodes).IPs(svc, ips), for one Service.
func IPs(svc string, ips []netip.Addr, nodes []v1beta1.HeraldNode) []v1beta1.AnnouncedIP {
	return NewIndex(nodes).IPs(svc, ips)
}

func ready(n *v1beta1.HeraldNode) bool {
	return meta.IsStatusConditionTrue(n.Status.Conditions, v1beta1.NodeReady)
}

// layer2Of lists the nodes that answer for ip on behalf of svc. A node
// listing the IP for other Services only is not counted: the IP may be
// shared, but the entry must be about this Service.
func (x *Index) layer2Of(svc string, ip netip.Addr) v1beta1.AnnouncedIP {
	e := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolLayer2}
	for _, a := range x.layer2[ip] {
		if len(a.services) > 0 && !slices.Contains(a.services, svc) {
			continue
		}
		e.Nodes = appendSorted(e.Nodes, a.node)
		for _, ifc := range a.interfaces {
			e.Interfaces = appendSorted(e.Interfaces, ifc)
		}
	}
	return e
}

// bgpOf lists every session that sends a route covering ip, with its most
// specific such prefix; a node counts as announcing when one of its
// sessions is established. A session lists at most
// v1beta1.MaxListedPrefixes routes, so a node with more may be missed.
func (x *Index) bgpOf(ip netip.Addr) v1beta1.AnnouncedIP {
	e := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolBGP}
	lengths := x.lengths6
	if ip.Is4() {
		lengths = x.lengths4
	}
	found := map[int]bool{}
	for _, l := range lengths {
		pf, err := ip.Prefix(l)
		if err != nil {
			continue
		}
		for _, r := range x.prefixes[pf] {
			if found[r.session] {
				continue
			}
			found[r.session] = true
			s := x.sessions[r.session]
			e.Peers = append(e.Peers, v1beta1.AnnouncingPeer{Node: s.node, Peer: s.peer, PeerAddress: s.address, State: s.state, Prefix: r.prefix})
			if s.state == Established {
				e.Nodes = appendSorted(e.Nodes, s.node)
			}
		}
	}
	slices.SortFunc(e.Peers, comparePeers)
	return e
}

func comparePeers(a, b v1beta1.AnnouncingPeer) int {
	return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Peer, b.Peer))
}

func appendSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

// joinSet joins the distinct values of s, sorted.
func joinSet(s []string) string {
	s = slices.Clone(s)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}
