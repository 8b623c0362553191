package speaker

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
)

// withLabels sets a Service's labels, for service.
func withLabels(kv ...string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Labels[kv[i]] = kv[i+1]
		}
	}
}

// relabel replaces a Service's labels.
func relabel(t *testing.T, ns, name string, kv ...string) {
	t.Helper()
	svc := &corev1.Service{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
		t.Fatal(err)
	}
	withLabels(kv...)(svc)
	if err := env.Client.Update(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
}

// selectWeb gives the setUp L2Advertisement and the setUpBGP
// BGPAdvertisement serviceSelectors app=web.
func selectWeb(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	sel := []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "web"}}}
	l2 := &v1beta1.L2Advertisement{}
	bgp := &v1beta1.BGPAdvertisement{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "lan"}, l2); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "routed"}, bgp); err != nil {
		t.Fatal(err)
	}
	l2.Spec.ServiceSelectors, bgp.Spec.ServiceSelectors = sel, sel
	for _, o := range []client.Object{l2, bgp} {
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// serviceSelectors against the real apiserver: the informer keeps the
// Services' labels; only matching Services are announced, over Layer 2 and
// BGP; relabelling moves a Service in and out; the one left out gets an
// Event saying why.
func TestServiceSelectorsFollowLabels(t *testing.T) {
	ns := setUp(t)
	setUpBGP(t)
	selectWeb(t)
	var l2IP string
	for i := 64; i < 96 && l2IP == ""; i++ {
		if ip := fmt.Sprintf("198.51.100.%d", i); len(mineOf("node1", all3, ip)) == 1 {
			l2IP = ip
		}
	}
	service(t, ns, "web", "203.0.113.70", withLabels("app", "web"), "node1")
	service(t, ns, "db", "203.0.113.71", withLabels("app", "db"), "node1")
	service(t, ns, "lan", l2IP, nil, "node1")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	routes := func(want ...string) func() (bool, string) {
		return func() (bool, string) {
			d, _ := h.bgp.last()
			var got []string
			for _, p := range d.Paths["tor"] {
				got = append(got, p.Prefix.String())
			}
			return slices.Equal(got, want), fmt.Sprintf("routes %v, want %v", got, want)
		}
	}
	waitFor(t, "only the web Service's route", routes("203.0.113.70/32"))
	// The same plan applied Layer 2 before it handed the routes over.
	if got := h.ann.Applied(); len(got) != 0 {
		t.Errorf("Layer 2 announces %v for a Service without app=web", got)
	}
	waitEvent(t, ns, "db", ReasonNotAnnounced, `no BGPAdvertisement that selects pool "routed" selects the Service by its labels`)
	waitEvent(t, ns, "lan", ReasonNotAnnounced, `no L2Advertisement that selects pool "lan" selects the Service by its labels`)

	relabel(t, ns, "web", "app", "api")
	relabel(t, ns, "db", "app", "web")
	relabel(t, ns, "lan", "app", "web")
	waitFor(t, "the relabelled Services' routes", routes("203.0.113.71/32"))
	h.waitApplied(mineOf("node1", all3, l2IP))
}
