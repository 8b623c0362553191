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

// IPs returns one entry per IP of the Service and protocol it is announced
// over, sorted by IP then protocol; an IP nobody announces gets one entry
// with no protocol and no nodes. Only nodes whose Ready condition is True
// and that the other speakers see alive (Alive) count: a speaker that
// stopped, lost quorum or crashed says nothing current.
func IPs(svc string, ips []netip.Addr, nodes []v1beta1.HeraldNode) []v1beta1.AnnouncedIP {
	alive, _ := Alive(nodes)
	ips = slices.Clone(ips)
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	var out []v1beta1.AnnouncedIP
	for _, ip := range ips {
		l2 := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolLayer2}
		bgp := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolBGP}
		for i := range nodes {
			if !ready(&nodes[i]) || !alive[nodes[i].Name] {
				continue
			}
			addLayer2(&l2, &nodes[i], svc, ip)
			addBGP(&bgp, &nodes[i], ip)
		}
		slices.SortFunc(bgp.Peers, comparePeers)
		n := len(out)
		for _, e := range []v1beta1.AnnouncedIP{l2, bgp} {
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

func comparePeers(a, b v1beta1.AnnouncingPeer) int {
	return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Peer, b.Peer))
}

func ready(n *v1beta1.HeraldNode) bool {
	return meta.IsStatusConditionTrue(n.Status.Conditions, v1beta1.NodeReady)
}

// addLayer2 adds n to e if it answers for ip on behalf of svc. A node
// listing the IP for other Services only is not counted: the IP may be
// shared, but the entry must be about this Service.
func addLayer2(e *v1beta1.AnnouncedIP, n *v1beta1.HeraldNode, svc string, ip netip.Addr) {
	for _, a := range n.Status.Layer2 {
		got, err := netip.ParseAddr(a.IP)
		if err != nil || got != ip || (len(a.Services) > 0 && !slices.Contains(a.Services, svc)) {
			continue
		}
		e.Nodes = appendSorted(e.Nodes, n.Name)
		for _, ifc := range a.Interfaces {
			e.Interfaces = appendSorted(e.Interfaces, ifc)
		}
	}
}

// addBGP adds every session of n that sends a route covering ip; the node
// counts as announcing when one of them is established. A session lists
// at most v1beta1.MaxListedPrefixes routes, so a node with more may be
// missed.
func addBGP(e *v1beta1.AnnouncedIP, n *v1beta1.HeraldNode, ip netip.Addr) {
	for _, p := range n.Status.BGPPeers {
		prefix, ok := covering(p.Prefixes, ip)
		if !ok {
			continue
		}
		e.Peers = append(e.Peers, v1beta1.AnnouncingPeer{
			Node: n.Name, Peer: p.Name, PeerAddress: p.PeerAddress, State: p.State, Prefix: prefix,
		})
		if p.State == Established {
			e.Nodes = appendSorted(e.Nodes, n.Name)
		}
	}
}

// covering returns the most specific prefix of prefixes that contains ip.
func covering(prefixes []string, ip netip.Addr) (string, bool) {
	best := netip.Prefix{}
	for _, s := range prefixes {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Contains(ip) {
			continue
		}
		if !best.IsValid() || p.Bits() > best.Bits() {
			best = p
		}
	}
	return best.String(), best.IsValid()
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
