package e2etest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
)

// serviceSelectors: a BGPAdvertisement with serviceSelectors sends FRR the
// routes of matching Services only, and relabelling a Service moves its
// route in and out.
func (s *bgpSuite) serviceSelectors(t *testing.T) {
	ctx := s.ctx(t)
	c := s.l.Env.Client
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "by-label"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.112/29"}}}
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "by-label"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPools:   []string{"by-label"},
		ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "web"}}},
	}}
	create(t, c, pool, adv)
	web, webIP := s.service(t, "by-label", nil, labels("app", "web"))
	other, otherIP := s.service(t, "by-label", nil, labels("app", "db"))
	if _, err := lab.WaitKernelNextHops(ctx, webIP, measure.Hops(webIP, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// The same plans that sent web's route left other's out.
	if hops, err := lab.KernelNextHops(ctx, otherIP); err != nil || len(hops) != 0 {
		t.Errorf("the router routes %s (app=db) via %v (%v); want no route", otherIP, hops, err)
	}
	relabelService(t, c, other, "app", "web")
	relabelService(t, c, web, "app", "api")
	if took, err := lab.WaitKernelNextHops(ctx, otherIP, measure.Hops(otherIP, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("route to %s in %v after its label matched", otherIP, took)
	}
	if took, err := lab.WaitKernelNextHops(ctx, webIP, nil, 20*time.Second); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("route to %s gone %v after its label stopped matching", webIP, took)
	}
}

// families: FRR enables IPv4 and IPv6 unicast on every node neighbour, so
// by default an IPv6 Service's route reaches FRR over the IPv4 sessions of
// peer tor; addressFamilies [IPv4] takes it away while IPv4 routes stay,
// and removing the restriction brings it back.
func (s *bgpSuite) families(t *testing.T) {
	ctx := s.ctx(t)
	c := s.l.Env.Client
	_, ip4 := s.service(t, "routed", nil)
	_, ip6 := s.service(t, "routed", nil, lab.IPv6Only())
	for _, ip := range []netip.Addr{ip4, ip6} {
		if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	setFamilies(t, c, []v1beta1.AddressFamily{v1beta1.AddressFamilyIPv4})
	t.Cleanup(func() { setFamilies(t, c, nil) })
	took, err := lab.WaitKernelNextHops(ctx, ip6, nil, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IPv6 route gone %v after tor was restricted to IPv4", took)
	// The sessions come back with IPv4 only (changing the families resets
	// them), and the IPv4 route with them.
	if _, err := lab.WaitKernelNextHops(ctx, ip4, measure.Hops(ip4, s.l.Nodes...), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if hops, err := lab.KernelNextHops(ctx, ip6); err != nil || len(hops) != 0 {
		t.Errorf("with tor IPv4-only the router routes %s via %v (%v)", ip6, hops, err)
	}
	setFamilies(t, c, nil)
	if _, err := lab.WaitKernelNextHops(ctx, ip6, measure.Hops(ip6, s.l.Nodes...), 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func labels(kv ...string) lab.ServiceOption {
	return func(svc *corev1.Service) {
		svc.Labels = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			svc.Labels[kv[i]] = kv[i+1]
		}
	}
}

func relabelService(t *testing.T, c client.Client, svc *corev1.Service, kv ...string) {
	t.Helper()
	var cur corev1.Service
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(svc), &cur); err != nil {
		t.Fatal(err)
	}
	labels(kv...)(&cur)
	if err := c.Update(context.Background(), &cur); err != nil {
		t.Fatal(err)
	}
}

// setFamilies sets the sample peer tor's addressFamilies (nil: unset).
func setFamilies(t *testing.T, c client.Client, fams []v1beta1.AddressFamily) {
	t.Helper()
	var peer v1beta1.BGPPeer
	if err := c.Get(context.Background(), client.ObjectKey{Name: "tor"}, &peer); err != nil {
		t.Fatal(err)
	}
	peer.Spec.AddressFamilies = fams
	if err := c.Update(context.Background(), &peer); err != nil {
		t.Fatal(err)
	}
}
