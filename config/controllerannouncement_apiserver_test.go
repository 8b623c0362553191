package config_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/testenv"
)

// The real apiserver, with config/rbac: the controller, as its own
// ServiceAccount, reads the HeraldNodes and creates a Service's
// ServiceAnnouncement by server-side apply.
func TestControllerWritesServiceAnnouncementsAsItself(t *testing.T) {
	env, cs := withRBAC(t)
	ctx := t.Context()
	runController(t, env, cs)
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.50/32"}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
	node := hn.New("node-a", hn.Quorum(1, 1, "1 of 1 alive: claims IPs"), hn.Members("node-a"), hn.Layer2("198.51.100.50", "eth0", "default/web"))
	for _, o := range []client.Object{pool, svc, &node} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		var sa v1beta1.ServiceAnnouncement
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "web"}, &sa); err != nil {
			var got corev1.Service
			_ = env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "web"}, &got)
			return fmt.Errorf("%w (the Service's ingress: %v)", err, got.Status.LoadBalancer.Ingress)
		}
		if sa.Status.Layer2Nodes != "node-a" {
			return fmt.Errorf("status %+v, want node-a over Layer 2", sa.Status)
		}
		return nil
	})
}
