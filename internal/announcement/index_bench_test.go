package announcement

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
)

// cluster is services Services, each with one IP from 198.18.0.0/15, half
// answered over Layer 2 by one node each and half advertised over BGP by
// every node (each session listing at most MaxListedPrefixes, as the
// speakers write them), on nodes claiming speakers.
func cluster(services, nodes int) ([]v1beta1.HeraldNode, []string, [][]netip.Addr) {
	names := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("node%d", i)
	}
	hns := make([]v1beta1.HeraldNode, nodes)
	for i := range hns {
		hns[i] = hn.New(names[i], hn.Quorum(int32(nodes), int32(nodes), "all alive: claims IPs"), hn.Members(names...))
	}
	svcs := make([]string, services)
	ips := make([][]netip.Addr, services)
	var prefixes []string
	base := netip.MustParseAddr("198.18.0.0").As4()
	for s := range services {
		b := base
		b[2], b[3] = byte(s>>8), byte(s)
		ip := netip.AddrFrom4(b)
		svcs[s], ips[s] = fmt.Sprintf("default/svc%d", s), []netip.Addr{ip}
		if s%2 == 0 {
			hn.Layer2(ip.String(), "eth0", svcs[s])(&hns[s%nodes])
		} else if len(prefixes) < v1beta1.MaxListedPrefixes {
			prefixes = append(prefixes, netip.PrefixFrom(ip, 32).String())
		}
	}
	for i := range hns {
		hn.Peer("tor", "198.51.100.1", Established, "", prefixes...)(&hns[i])
	}
	return hns, svcs, ips
}

// BenchmarkWave is what one HeraldNode write costs the leader: every
// Service with an IP is summed up from every HeraldNode. "index" is what
// the reconciler does (one index per set of HeraldNodes); "scan" is the
// plain scan of every node's lists per Service, the baseline.
func BenchmarkWave(b *testing.B) {
	for _, size := range []struct{ services, nodes int }{{1000, 3}, {10000, 3}, {10000, 100}} {
		nodes, svcs, ips := cluster(size.services, size.nodes)
		name := fmt.Sprintf("%dsvc-%dnodes", size.services, size.nodes)
		b.Run(name+"/index", func(b *testing.B) {
			for range b.N {
				idx := NewIndex(nodes)
				for s := range svcs {
					idx.IPs(svcs[s], ips[s])
				}
			}
		})
		if size.nodes > 3 {
			continue // the scan takes minutes per wave here
		}
		b.Run(name+"/scan", func(b *testing.B) {
			for range b.N {
				for s := range svcs {
					scanIPs(svcs[s], ips[s], nodes)
				}
			}
		})
	}
}
