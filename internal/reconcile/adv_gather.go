package reconcile

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
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
	objs, err := kube.ListConfig(ctx, c)
	if err != nil {
		return config.Objects{}, nil, err
	}
	var out []readinessTarget
	for i := range objs.L2 {
		o := &objs.L2[i]
		out = append(out, readinessTarget{"L2Advertisement/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range objs.BGP {
		o := &objs.BGP[i]
		out = append(out, readinessTarget{"BGPAdvertisement/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range objs.Peers {
		o := &objs.Peers[i]
		out = append(out, readinessTarget{"BGPPeer/" + o.Name, o, &o.Status.Conditions})
	}
	for i := range objs.Communities {
		o := &objs.Communities[i]
		out = append(out, readinessTarget{"Community/" + o.Name, o, &o.Status.Conditions})
	}
	return objs, out, nil
}
