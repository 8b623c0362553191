package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/speaker"
	"github.com/heraldlb/herald/internal/status"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestStatus reads a pool, two speakers' HeraldNodes and three Services from
// the real apiserver and prints them in each format.
func TestStatus(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	c := env.Client
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "status-lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.200/29"}}}
	objs := []client.Object{pool, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "status-demo"}},
		&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "status-lan"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"status-lan"}}},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "status-demo", Name: "web", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"198.51.100.20"}, NodeName: ptr.To("node1")}}}}
	claims := hnt.Quorum(3, 3, "3 of 3 known speakers alive: claims")
	members := hnt.Members("node1", "node2", "node3")
	node1 := hnt.New("node1", claims, members, hnt.Layer2("198.51.100.201", "eth0", "status-demo/web"),
		hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.64/32"))
	node2 := hnt.New("node2", claims, members, hnt.Peer("tor", "198.51.100.1", "Active", "connection refused"))
	objs = append(objs, &node1, &node2)
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}})
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(ctx, o) })
	}
	pool.Status = v1beta1.IPAddressPoolStatus{InUse: "2", Available: "6", Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready", LastTransitionTime: metav1.Now()}}}
	if err := c.Status().Update(ctx, pool); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ name, ip string }{{"web", "198.51.100.201"}, {"api", "203.0.113.64"}, {"lost", "198.51.100.202"}} {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "status-demo", Name: s.name}, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: ptr.To(false), Ports: []corev1.ServicePort{{Port: 80}}}}
		if err := c.Create(ctx, svc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(ctx, svc) })
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: s.ip}}
		if err := c.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
	}

	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "status-demo", Name: "lost.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Service", Namespace: "status-demo", Name: "lost"},
		Reason:         speaker.ReasonNotAnnounced, Message: "198.51.100.202 is not announced: no endpoint of the Service is ready",
		Type: corev1.EventTypeWarning, LastTimestamp: metav1.Now()}
	if err := c.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, ev) })

	var table bytes.Buffer
	if err := RunStatus(ctx, flagsFor(), "table", &table); err != nil {
		t.Fatal(err)
	}
	// Other tests of the package share the apiserver: judge only this
	// test's objects, whatever the column widths.
	for _, want := range []string{`status-lan\s+2\s+6\s+True`, `BGP SESSIONS: 1 of 2 up`, `node2\s+tor\s+198\.51\.100\.1\s+Active\s+0\s+connection refused`, `node1\s+True\s+true\s+3\s+1\s+1`,
		`status-demo/lost\s+198\.51\.100\.202\s+198\.51\.100\.202 is not announced: no endpoint of the Service is ready`} {
		if !regexp.MustCompile(want).MatchString(table.String()) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	for _, announced := range []string{"status-demo/web ", "status-demo/api "} {
		if strings.Contains(table.String(), announced) {
			t.Errorf("%s listed as unannounced:\n%s", announced, table.String())
		}
	}
	if len(table.String()) < 4000 {
		t.Logf("heraldctl status:\n%s", table.String())
	}
	var js bytes.Buffer
	if err := RunStatus(ctx, flagsFor(), "json", &js); err != nil {
		t.Fatal(err)
	}
	var s status.Summary
	ours := 0
	err := json.Unmarshal(js.Bytes(), &s)
	for _, u := range s.Unannounced {
		if strings.HasPrefix(u.Service, "status-demo/") {
			ours++
		}
	}
	if err != nil || len(s.Speakers) != 2 || ours != 1 {
		t.Errorf("json: %d speakers, %d of this test's IPs unannounced, %v", len(s.Speakers), ours, err)
	}
	var y bytes.Buffer
	if err := RunStatus(ctx, flagsFor(), "yaml", &y); err != nil || !strings.Contains(y.String(), "unannounced:") {
		t.Errorf("yaml: %v\n%s", err, y.String())
	}
	if err := RunStatus(ctx, flagsFor(), "wide", &y); err == nil {
		t.Error("-o wide accepted")
	}

	// heraldctl why, on the same objects.
	flags := flagsFor()
	flags.Namespace = ptr.To("status-demo")
	class := kube.ClassPolicy{Class: kube.DefaultClass, Default: true}
	for _, tt := range []struct{ svc, want string }{
		{"web", "HeraldNode node1 says it answers for 198.51.100.201 on eth0"},
		{"web", "198.51.100.201 is from IPAddressPool status-lan"},
		{"lost", "The speakers' last word on it (NotAnnounced): 198.51.100.202 is not announced: no endpoint of the Service is ready"},
	} {
		var why bytes.Buffer
		if err := RunWhy(ctx, flags, tt.svc, class, "text", &why); err != nil || !strings.Contains(why.String(), tt.want) {
			t.Errorf("why %s: %v; lacks %q:\n%s", tt.svc, err, tt.want, why.String())
		}
	}
	if err := RunWhy(ctx, flags, "nosuch", class, "text", &y); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("why of a Service that does not exist: %v", err)
	}
}
