package reconcile

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// readinessTarget is one object whose Ready condition the reconciler keeps;
// conds points into obj.
type readinessTarget struct {
	key   string // "Kind/name", as config.Readiness names it
	obj   client.Object
	conds *[]metav1.Condition
}

// gatherReadiness lists the configuration objects from the cache, and the
// objects whose Ready condition depends on them.
func gatherReadiness(ctx context.Context, c client.Reader) (config.Objects, []readinessTarget, error) {
	var (
		pools v1beta1.IPAddressPoolList
		l2    v1beta1.L2AdvertisementList
		bgp   v1beta1.BGPAdvertisementList
		peers v1beta1.BGPPeerList
		comms v1beta1.CommunityList
	)
	for _, l := range []client.ObjectList{&pools, &l2, &bgp, &peers, &comms} {
		if err := c.List(ctx, l); err != nil {
			return config.Objects{}, nil, fmt.Errorf("list %T: %w", l, err)
		}
	}
	var out []readinessTarget
	for i := range l2.Items {
		o := &l2.Items[i]
		out = append(out, readinessTarget{"L2Advertisement/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range bgp.Items {
		o := &bgp.Items[i]
		out = append(out, readinessTarget{"BGPAdvertisement/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range peers.Items {
		o := &peers.Items[i]
		out = append(out, readinessTarget{"BGPPeer/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range comms.Items {
		o := &comms.Items[i]
		out = append(out, readinessTarget{"Community/" + o.Name, o, &o.Status.Conditions})
	}
	objs := config.Objects{Pools: pools.Items, L2: l2.Items, BGP: bgp.Items, Peers: peers.Items, Communities: comms.Items}
	return objs, out, nil
}
