package soak

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/heraldnodetest"
)

// poolAnnotation is where the controller writes the pool an IP came from.
const poolAnnotation = "heraldlb.io/ip-allocated-from-pool"

// Speakers describe the speakers a controller-only soak stands in for:
// what their HeraldNodes would say once the cluster has settled.
type Speakers struct {
	Nodes []string
	// BGPPools are announced over BGP by every node to Peer (at
	// PeerAddress); every other pool's IPs over Layer 2 by one node.
	BGPPools          []string
	Peer, PeerAddress string
}

// Statuses are the HeraldNodes that Ready speakers with quorum would
// write for svcs: each Layer 2 IP answered by one node (a hash of the IP,
// as the election spreads them), each BGP IP sent as a host route by
// every node. Without them the controller would mark every Service
// NoAnnouncer, which a healthy cluster never does.
func (s Speakers) Statuses(svcs []corev1.Service) []v1beta1.HeraldNode {
	l2 := make([][]heraldnodetest.Option, len(s.Nodes))
	var routes []string
	for _, svc := range svcs {
		key := svc.Namespace + "/" + svc.Name
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ip, err := netip.ParseAddr(in.IP)
			if err != nil {
				continue
			}
			if slices.Contains(s.BGPPools, svc.Annotations[poolAnnotation]) {
				routes = append(routes, netip.PrefixFrom(ip, ip.BitLen()).String())
				continue
			}
			i := pick(ip, len(s.Nodes))
			l2[i] = append(l2[i], heraldnodetest.Layer2(ip.String(), "eth0", key))
		}
	}
	slices.Sort(routes)
	n := int32(len(s.Nodes))
	sentence := fmt.Sprintf("%d of %d known speakers alive: claims", n, n)
	out := make([]v1beta1.HeraldNode, len(s.Nodes))
	for i, name := range s.Nodes {
		opts := append([]heraldnodetest.Option{heraldnodetest.Quorum(n, n, sentence), heraldnodetest.Members(s.Nodes...),
			heraldnodetest.Peer(s.Peer, s.PeerAddress, "Established", "", routes...)}, l2[i]...)
		out[i] = heraldnodetest.New(name, opts...)
	}
	return out
}

func pick(ip netip.Addr, n int) int {
	h := fnv.New32a()
	_, _ = h.Write(ip.AsSlice())
	return int(h.Sum32() % uint32(n))
}
