package kube

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// ListConfig lists Herald's configuration objects from r, as config reads
// them. opts apply to every list (client.UnsafeDisableDeepCopy for a
// reader that modifies nothing).
func ListConfig(ctx context.Context, r client.Reader, opts ...client.ListOption) (config.Objects, error) {
	var (
		pools v1beta1.IPAddressPoolList
		l2    v1beta1.L2AdvertisementList
		bgp   v1beta1.BGPAdvertisementList
		peers v1beta1.BGPPeerList
		comms v1beta1.CommunityList
	)
	for _, l := range []struct {
		what string
		list client.ObjectList
	}{{"IPAddressPools", &pools}, {"L2Advertisements", &l2}, {"BGPAdvertisements", &bgp}, {"BGPPeers", &peers}, {"Communities", &comms}} {
		if err := r.List(ctx, l.list, opts...); err != nil {
			return config.Objects{}, fmt.Errorf("list %s: %w", l.what, err)
		}
	}
	return config.Objects{Pools: pools.Items, L2: l2.Items, BGP: bgp.Items, Peers: peers.Items, Communities: comms.Items}, nil
}
