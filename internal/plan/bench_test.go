package plan

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// BenchmarkCompute plans n Services on three nodes, in both modes: what
// every speaker does after each change. With "selected", the BGP
// advertisement has serviceSelectors, which half the Services match, so
// that the pool's plan is keyed by the Services' labels.
func BenchmarkCompute(b *testing.B) {
	for _, c := range []struct {
		n        int
		selected bool
	}{{100, false}, {1000, false}, {5000, false}, {5000, true}} {
		name := fmt.Sprint(c.n)
		if c.selected {
			name += "-selected"
		}
		b.Run(name, func(b *testing.B) {
			in := bgpWorld(config.Objects{
				Pools: []v1beta1.IPAddressPool{pool("big", nil, "2001:db8:210::/112"), lan},
				L2:    []v1beta1.L2Advertisement{adv("lan", forPools("lan"))},
				BGP: []v1beta1.BGPAdvertisement{bgpAdv("big", func(a *v1beta1.BGPAdvertisement) {
					a.Spec.IPAddressPools = []string{"big"}
					if c.selected {
						a.Spec.ServiceSelectors = webOnly
					}
				})},
				Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")},
			})
			ip := netip.MustParseAddr("2001:db8:210::")
			for i := range c.n {
				s := svc(fmt.Sprintf("ns/s%d", i), ip.String())
				if i%2 == 0 {
					s = labelled(s, "app", "web")
				}
				in.Services = append(in.Services, s)
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
