package plan

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// BenchmarkCompute plans n Services on three nodes, in both modes: what
// every speaker does after each change.
func BenchmarkCompute(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			in := bgpWorld(config.Objects{
				Pools: []v1beta1.IPAddressPool{pool("big", nil, "2001:db8:210::/112"), lan},
				L2:    []v1beta1.L2Advertisement{adv("lan", forPools("lan"))},
				BGP:   []v1beta1.BGPAdvertisement{bgpAdv("big", func(a *v1beta1.BGPAdvertisement) { a.Spec.IPAddressPools = []string{"big"} })},
				Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")},
			})
			ip := netip.MustParseAddr("2001:db8:210::")
			for i := range n {
				in.Services = append(in.Services, svc(fmt.Sprintf("ns/s%d", i), ip.String()))
				ip = ip.Next()
			}
			for i := 1; i <= 3; i++ {
				in.Members = append(in.Members, Member{Name: fmt.Sprintf("node%d", i), Links: lanLinks(i), AnyLink: true})
			}
			b.ResetTimer()
			for range b.N {
				Compute(in)
			}
		})
	}
}
