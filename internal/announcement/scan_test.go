package announcement

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
)

// scanIPs is the plain reading of what IPs returns: for each IP, scan
// every node that counts, every Layer 2 entry and every session's
// prefixes. The index must agree with it on any input.
func scanIPs(svc string, ips []netip.Addr, nodes []v1beta1.HeraldNode) []v1beta1.AnnouncedIP {
	alive, _ := Alive(nodes)
	ips = slices.Clone(ips)
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	var out []v1beta1.AnnouncedIP
	for _, ip := range ips {
		l2 := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolLayer2}
		bgp := v1beta1.AnnouncedIP{IP: ip.String(), Protocol: v1beta1.ProtocolBGP}
		for i := range nodes {
			n := &nodes[i]
			if !ready(n) || !alive[n.Name] {
				continue
			}
			for _, a := range n.Status.Layer2 {
				got, err := netip.ParseAddr(a.IP)
				if err != nil || got != ip || (len(a.Services) > 0 && !slices.Contains(a.Services, svc)) {
					continue
				}
				l2.Nodes = appendSorted(l2.Nodes, n.Name)
				for _, ifc := range a.Interfaces {
					l2.Interfaces = appendSorted(l2.Interfaces, ifc)
				}
			}
			for _, p := range n.Status.BGPPeers {
				best := netip.Prefix{}
				for _, s := range p.Prefixes {
					pf, err := netip.ParsePrefix(s)
					if err == nil && pf.Contains(ip) && (!best.IsValid() || pf.Bits() > best.Bits()) {
						best = pf
					}
				}
				if !best.IsValid() {
					continue
				}
				bgp.Peers = append(bgp.Peers, v1beta1.AnnouncingPeer{Node: n.Name, Peer: p.Name, PeerAddress: p.PeerAddress, State: p.State, Prefix: best.String()})
				if p.State == Established {
					bgp.Nodes = appendSorted(bgp.Nodes, n.Name)
				}
			}
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

// randomCluster draws HeraldNodes whose entries collide often: few IPs,
// overlapping and unmasked prefixes of both families, shared IPs, nodes
// that are not Ready or not seen alive, and malformed strings.
func randomCluster(r *rand.Rand) []v1beta1.HeraldNode {
	ips := []string{"198.51.100.1", "198.51.100.2", "198.51.100.130", "2001:db8::1", "2001:db8::2", "2001:db8:1::1", "bogus"}
	prefixes := []string{"198.51.100.0/24", "198.51.100.1/32", "198.51.100.2/25", "198.51.100.128/25", "198.51.100.0/23",
		"2001:db8::/32", "2001:db8::1/128", "2001:db8::/64", "2001:db8:1::5/48", "0.0.0.0/0", "::/0", "bad/99"}
	svcs := [][]string{nil, {svc}, {"default/other"}, {svc, "default/other"}}
	names := []string{"node1", "node2", "node3", "node4"}
	nodes := make([]v1beta1.HeraldNode, 1+r.IntN(len(names)))
	for i := range nodes {
		var opts []hn.Option
		if r.IntN(5) > 0 {
			opts = append(opts, hn.Quorum(3, 3, "3 of 3 alive: claims IPs"))
		}
		var members []string
		for _, m := range names {
			if r.IntN(2) > 0 {
				members = append(members, m)
			}
		}
		opts = append(opts, hn.Members(members...))
		for range r.IntN(4) {
			opts = append(opts, hn.Layer2(ips[r.IntN(len(ips))], fmt.Sprintf("eth%d", r.IntN(2)), svcs[r.IntN(len(svcs))]...))
		}
		for p := range r.IntN(3) {
			var ps []string
			for range r.IntN(4) {
				ps = append(ps, prefixes[r.IntN(len(prefixes))])
			}
			state := []string{Established, "Active", "Idle"}[r.IntN(3)]
			opts = append(opts, hn.Peer(fmt.Sprintf("peer%d", p), "198.51.100.250", state, "", ps...))
		}
		nodes[i] = hn.New(names[i], opts...)
	}
	return nodes
}

// FuzzIndexAgreesWithScan checks the index against the plain scan on
// random clusters and Services.
func FuzzIndexAgreesWithScan(f *testing.F) {
	for seed := range uint64(300) {
		f.Add(seed)
	}
	candidates := addrs("198.51.100.1", "198.51.100.2", "198.51.100.130", "198.51.100.200", "2001:db8::1", "2001:db8::2", "2001:db8:1::1", "2001:db8:2::1")
	f.Fuzz(func(t *testing.T, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		nodes := randomCluster(r)
		var ips []netip.Addr
		for range 1 + r.IntN(3) {
			ips = append(ips, candidates[r.IntN(len(candidates))])
		}
		if diff := cmp.Diff(scanIPs(svc, ips, nodes), IPs(svc, ips, nodes)); diff != "" {
			t.Errorf("index and scan disagree on %v over %+v (-scan +index):\n%s", ips, nodes, diff)
		}
	})
}
