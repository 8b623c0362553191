package status

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

// AnnotationPool is where the controller writes the pool a Service's IPs
// come from.
const AnnotationPool = "heraldlb.io/ip-allocated-from-pool"

// Pending and None stand in the table for a Service without an IP and for
// an IP that nobody announces: capitals, so an operator's eye finds them.
const (
	Pending = "PENDING"
	None    = "NONE"
)

// ServiceRow is one LoadBalancer Service as `heraldctl services` shows it.
type ServiceRow struct {
	Service string   `json:"service"`
	IPs     []string `json:"ips"`
	Pool    string   `json:"pool,omitempty"`
	// Layer2 are the nodes that answer for one of its IPs; BGP the
	// "node→peer" sessions that carry a prefix holding one.
	Layer2 []string `json:"layer2"`
	BGP    []string `json:"bgp"`
}

// Pending reports whether the Service has no IP yet.
func (r ServiceRow) Pending() bool { return len(r.IPs) == 0 }

// Unannounced reports whether it has an IP that no node announces.
func (r ServiceRow) Unannounced() bool { return !r.Pending() && len(r.Layer2) == 0 && len(r.BGP) == 0 }

// Services lists the Services, by namespace/name, with who announces them
// as the HeraldNodes say.
func Services(svcs []corev1.Service, nodes []v1beta1.HeraldNode) []ServiceRow {
	rows := []ServiceRow{}
	for _, s := range svcs {
		r := ServiceRow{Service: s.Namespace + "/" + s.Name, Pool: s.Annotations[AnnotationPool], IPs: []string{}, Layer2: []string{}, BGP: []string{}}
		var ips []netip.Addr
		for _, in := range s.Status.LoadBalancer.Ingress {
			if ip, err := netip.ParseAddr(in.IP); err == nil {
				ips = append(ips, ip)
				r.IPs = append(r.IPs, ip.String())
			}
		}
		for _, n := range nodes {
			r.Layer2, r.BGP = announcersOf(n, ips, r.Layer2, r.BGP)
		}
		slices.Sort(r.Layer2)
		slices.Sort(r.BGP)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b ServiceRow) int { return strings.Compare(a.Service, b.Service) })
	return rows
}

// announcersOf appends node n to l2 if it answers for one of ips, and each
// of its sessions that sends a prefix holding one to bgp.
func announcersOf(n v1beta1.HeraldNode, ips []netip.Addr, l2, bgp []string) ([]string, []string) {
	for _, e := range n.Status.Layer2 {
		if ip, err := netip.ParseAddr(e.IP); err == nil && slices.Contains(ips, ip) {
			l2 = append(l2, n.Name)
			break
		}
	}
	for _, p := range n.Status.BGPPeers {
		if sendsAny(p.Prefixes, ips) {
			bgp = append(bgp, n.Name+"→"+p.Name)
		}
	}
	return l2, bgp
}

func sendsAny(prefixes []string, ips []netip.Addr) bool {
	for _, x := range prefixes {
		pf, err := netip.ParsePrefix(x)
		if err == nil && slices.ContainsFunc(ips, pf.Contains) {
			return true
		}
	}
	return false
}
