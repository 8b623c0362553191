package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/testenv"
)

// viewService creates a LoadBalancer Service in ns with ip (none: "") in
// its status, from pool.
func viewService(t *testing.T, ns, name, ip, pool string) {
	t.Helper()
	if ip == "" {
		create(t, lbService(ns, name))
		return
	}
	createWithStatus(t, lbService(ns, name, allocated(pool, ip)))
}

// matchAll fails t for each pattern out lacks.
func matchAll(t *testing.T, what, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(`(?m)` + p).MatchString(out) {
			t.Errorf("%s lacks %q:\n%s", what, p, out)
		}
	}
}

// viewsFixture creates a pool selected by an L2 and a BGP advertisement,
// two HeraldNodes and five Services over two namespaces.
func viewsFixture(t *testing.T) {
	ctx := context.Background()
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "views-lan", Labels: map[string]string{"views": "yes"}},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.160/29"}, AutoAssign: ptr.To(false)}}
	node1 := hnt.New("views-node1", hnt.Layer2("198.51.100.161", "eth0", "views/web"),
		hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.160/32"))
	node2 := hnt.New("views-node2", hnt.Peer("tor", "198.51.100.1", "Active", "connection refused"))
	create(t, pool, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "views"}}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "views-other"}},
		&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "views-l2"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"views-lan"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "views-bgp"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPoolSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"views": "yes"}}}}},
		&node1, &node2)
	pool.Status = v1beta1.IPAddressPoolStatus{InUse: "3", Available: "5", Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Overlapping", LastTransitionTime: metav1.Now()}}}
	if err := env.Client.Status().Update(ctx, pool); err != nil {
		t.Fatal(err)
	}
	viewService(t, "views", "web", "198.51.100.161", "views-lan")
	viewService(t, "views", "api", "203.0.113.160", "views-lan")
	viewService(t, "views", "lost", "198.51.100.162", "views-lan")
	viewService(t, "views", "pending", "", "")
	viewService(t, "views-other", "elsewhere", "198.51.100.163", "views-lan")

}

// TestViews runs pools, services, bgp peers, bgp routes and events against
// the real apiserver, in each format.
func TestViews(t *testing.T) {
	testenv.Require(t, env)
	viewsFixture(t)
	ctx := context.Background()
	flags := flagsFor()
	flags.Namespace = ptr.To("views")
	run := func(name string, f func(output string, out *bytes.Buffer) error) string {
		t.Helper()
		var table, js, y bytes.Buffer
		for _, o := range []struct {
			output string
			buf    *bytes.Buffer
		}{{"table", &table}, {"json", &js}, {"yaml", &y}} {
			if err := f(o.output, o.buf); err != nil {
				t.Fatalf("%s -o %s: %v", name, o.output, err)
			}
		}
		if !json.Valid(js.Bytes()) || y.Len() == 0 {
			t.Errorf("%s: json valid %v, yaml %d bytes", name, json.Valid(js.Bytes()), y.Len())
		}
		if err := f("wide", &y); err == nil {
			t.Errorf("%s -o wide accepted", name)
		}
		return table.String()
	}
	out := run("pools", func(o string, b *bytes.Buffer) error { return RunPools(ctx, flags, o, b) })
	matchAll(t, "pools", out, `^views-lan\s+198\.51\.100\.160/29\s+3\s+5\s+false\s+Overlapping\s+BGP/views-bgp,L2/views-l2`)

	out = run("services", func(o string, b *bytes.Buffer) error { return RunServices(ctx, flags, false, o, b) })
	matchAll(t, "services", out, `^views/web\s+198\.51\.100\.161\s+views-lan\s+views-node1\s+-$`, `^views/api\s+203\.0\.113\.160\s+views-lan\s+-\s+views-node1→tor$`,
		`^views/lost\s+198\.51\.100\.162\s+views-lan\s+NONE\s+NONE$`, `^views/pending\s+PENDING\s+-\s+-\s+-$`)
	if strings.Contains(out, "elsewhere") {
		t.Errorf("services -n views lists another namespace's:\n%s", out)
	}
	out = run("services -A", func(o string, b *bytes.Buffer) error { return RunServices(ctx, flags, true, o, b) })
	matchAll(t, "services -A", out, `^views-other/elsewhere\s+198\.51\.100\.163`, `^views/web\s`)

	out = run("bgp peers", func(o string, b *bytes.Buffer) error { return RunBGPPeers(ctx, flags, o, b) })
	matchAll(t, "bgp peers", out, `^views-node1\s+tor\s+198\.51\.100\.1\s+Established\s+-\s+1\s+0\s+-$`, `^views-node2\s+tor\s+198\.51\.100\.1\s+Active\s+-\s+0\s+0\s+connection refused$`)

	out = run("bgp routes", func(o string, b *bytes.Buffer) error { return RunBGPRoutes(ctx, flags, "views-node1", o, b) })
	matchAll(t, "bgp routes", out, `^tor\s+Established\s+203\.0\.113\.160/32$`)
	if err := RunBGPRoutes(ctx, flags, "nosuch", "table", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("bgp routes of a node without a HeraldNode: %v", err)
	}
	testEvents(t, flags)
}

// testEvents creates Events in namespace views, Herald's and another
// component's, and lists them.
func testEvents(t *testing.T, flags *genericclioptions.ConfigFlags) {
	ctx := context.Background()
	now := time.Now()
	ev := func(name string, ago time.Duration, obj corev1.ObjectReference, src string) *corev1.Event {
		ns := obj.Namespace
		if ns == "" {
			ns = "default" // where Events about cluster-scoped objects go
		}
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "views." + strings.ToLower(name)}, InvolvedObject: obj,
			Source: corev1.EventSource{Component: src}, Type: corev1.EventTypeNormal, Reason: name, Message: "about " + name,
			FirstTimestamp: metav1.NewTime(now.Add(-ago)), LastTimestamp: metav1.NewTime(now.Add(-ago))}
	}
	web := corev1.ObjectReference{Kind: "Service", Namespace: "views", Name: "web", APIVersion: "v1"}
	hn := corev1.ObjectReference{Kind: "HeraldNode", Name: "views-node1", APIVersion: "heraldlb.io/v1beta1"}
	create(t, ev("Announcing", time.Minute, web, "herald-speaker"), ev("IPAllocated", 10*time.Minute, web, "herald-controller"),
		ev("Quorum", 5*time.Minute, hn, ""), ev("Scheduled", time.Minute, web, "kube-scheduler"), ev("Ancient", 3*time.Hour, web, "herald-speaker"))
	var out bytes.Buffer
	if err := RunEvents(ctx, flags, false, time.Hour, "table", &out); err != nil {
		t.Fatal(err)
	}
	matchAll(t, "events --since 1h", out.String(), `(?s)IPAllocated.*Announcing`, `^10m\s+views\s+Service/web\s+Normal\s+IPAllocated\s+herald-controller\s+about IPAllocated$`)
	for _, not := range []string{"Scheduled", "Ancient"} {
		if strings.Contains(out.String(), not) {
			t.Errorf("events --since 1h lists %s:\n%s", not, out.String())
		}
	}
	var js bytes.Buffer
	if err := RunEvents(ctx, flags, true, 0, "json", &js); err != nil || !strings.Contains(js.String(), `"reason": "Ancient"`) || !strings.Contains(js.String(), `"object": "HeraldNode/views-node1"`) {
		t.Errorf("events -A -o json: %v\n%s", err, js.String())
	}
	if err := RunEvents(ctx, flags, false, -time.Minute, "table", &out); err == nil {
		t.Error("--since -1m accepted")
	}
}
