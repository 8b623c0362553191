package speaker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/plan"
)

var lifecycleIPs = []string{"198.51.100.64", "198.51.100.65", "198.51.100.66", "198.51.100.67", "198.51.100.68", "198.51.100.69"}

// startAmongThree runs node1's speaker with node2 and node3 alive and six
// Services with endpoints on all three, and waits until it answers for its
// share, which it returns.
func startAmongThree(t *testing.T, tweak ...func(*Options)) (*harness, []layer2.Announcement) {
	t.Helper()
	ns := setUp(t)
	for i, ip := range lifecycleIPs {
		service(t, ns, fmt.Sprintf("s%d", i), ip, nil, "node1", "node2", "node3")
	}
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem, tweak...)
	mine := mineOf("node1", all3, lifecycleIPs...)
	h.waitApplied(mine)
	return h, mine
}

// editNode changes a Node, its status too, as kubectl or the kubelet would.
func editNode(t *testing.T, name string, edit func(*corev1.Node)) {
	t.Helper()
	ctx := context.Background()
	n := &corev1.Node{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
		t.Fatal(err)
	}
	edit(n)
	status := n.Status
	if err := env.Client.Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	n.Status = status
	if err := env.Client.Status().Update(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// TestALeavingNodeHandsItsIPsOver: cordoned, tainted out-of-service or
// excluded, node1 stops answering and, in the same step, points clients at
// each IP's next owner; back in service, it takes its IPs again.
func TestALeavingNodeHandsItsIPsOver(t *testing.T) {
	for _, tt := range []struct {
		name        string
		leave, back func(*corev1.Node)
	}{
		{"cordon", func(n *corev1.Node) { n.Spec.Unschedulable = true }, func(n *corev1.Node) { n.Spec.Unschedulable = false }},
		{"out-of-service taint",
			func(n *corev1.Node) {
				n.Spec.Taints = []corev1.Taint{{Key: plan.TaintOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute}}
			},
			func(n *corev1.Node) { n.Spec.Taints = nil }},
		{"exclude label", func(n *corev1.Node) { n.Labels = map[string]string{plan.LabelExcludeFromLB: ""} }, func(n *corev1.Node) { n.Labels = nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, mine := startAmongThree(t)
			_, before := h.ann.history()

			editNode(t, "node1", tt.leave)
			h.waitApplied(nil)
			announced, calls := h.ann.history()
			calls = calls[len(before):]
			if i := slices.Index(calls, "announce"); i < 1 || calls[i-1] != "set" {
				t.Fatalf("calls after leaving = %v; want set(nothing) then announce", calls)
			}
			handed := announced[len(announced)-1]
			if len(handed) != len(mine) {
				t.Fatalf("handed over %v; want each of %v", handed, mine)
			}
			for _, g := range handed {
				next, _ := election.Winner(g.IP, []string{"node2", "node3"})
				if want := nodeMAC(int(next[len(next)-1] - '0')); g.MAC.String() != want.String() || g.Interface != "eth0" {
					t.Errorf("%s handed to MAC %s on %s, want %s's %s on eth0", g.IP, g.MAC, g.Interface, next, want)
				}
			}
			editNode(t, "node1", tt.back)
			h.waitApplied(mine)
		})
	}
}

// TestCordoningEveryNodeLeavesNothingUnanswered: when every node is
// cordoned, the IPs stay where the election puts them.
func TestCordoningEveryNodeLeavesNothingUnanswered(t *testing.T) {
	h, mine := startAmongThree(t)
	for _, n := range []string{"node2", "node3"} {
		editNode(t, n, func(n *corev1.Node) { n.Spec.Unschedulable = true })
	}
	h.waitApplied(mineOf("node1", []string{"node1"}, lifecycleIPs...))
	editNode(t, "node1", func(n *corev1.Node) { n.Spec.Unschedulable = true })
	h.waitApplied(mine)
}

// TestANodeNotReadyFor40sIsGone: node2 turns NotReady while its speaker
// still gossips; its IPs move only when GoneAfter has passed on this
// node's clock.
func TestANodeNotReadyFor40sIsGone(t *testing.T) {
	t0 := time.Now()
	fc := testingclock.NewFakeClock(t0)
	renewedAt(t, "node2", t0.Add(time.Hour))
	renewedAt(t, "node3", t0.Add(time.Hour))
	stepWhileWaiting(t, fc)
	h, _ := startAmongThree(t, func(o *Options) { o.Clock = fc })

	editNode(t, "node2", func(n *corev1.Node) {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, LastTransitionTime: metav1.NewTime(t0)}}
	})
	// Seen NotReady at the plan after the edit, no earlier than now; the
	// condition's own time, long before on this clock, does not count.
	notReadyAt := fc.Now()
	h.waitApplied(mineOf("node1", []string{"node1", "node3"}, lifecycleIPs...))
	if took := fc.Now().Sub(notReadyAt); took < plan.GoneAfter || took > plan.GoneAfter+3*time.Second {
		t.Errorf("node2's IPs moved %v after it was seen NotReady, want %v", took, plan.GoneAfter)
	}
}

// stepWhileWaiting steps fc by 10 ms whenever something waits on it, until
// the test ends.
func stepWhileWaiting(t *testing.T, fc *testingclock.FakeClock) {
	ctx, cancel := context.WithCancel(context.Background())
	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		for ctx.Err() == nil {
			if fc.HasWaiters() {
				fc.Step(10 * time.Millisecond)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-stepped })
}

// TestALeavingNodeShutsBGPDownGracefully: cordoned, node1 first tags its
// routes GRACEFUL_SHUTDOWN, and withdraws them only when its
// graceful-shutdown period has passed.
func TestALeavingNodeShutsBGPDownGracefully(t *testing.T) {
	ns := setUp(t)
	ctx := context.Background()
	objs := []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.64/27"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"routed"}}},
		&v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPPeerSpec{
			MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: "198.51.100.1"}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	editNode(t, "node1", func(n *corev1.Node) {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.51.100.11"}}
	})
	service(t, ns, "api", "203.0.113.70", nil, "node1", "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	const period = 1500 * time.Millisecond
	h := start(t, "node1", mem, func(o *Options) { o.GracefulShutdown = period })
	paths := func() []bgpPathView {
		d, _ := h.bgp.last()
		var out []bgpPathView
		for _, p := range d.Paths["tor"] {
			out = append(out, bgpPathView{p.Prefix.String(), slices.Contains(p.Communities, plan.GracefulShutdownCommunity)})
		}
		return out
	}
	waitFor(t, "the route", func() (bool, string) {
		p := paths()
		return len(p) == 1 && !p[0].gshut, fmt.Sprintf("%+v", p)
	})
	editNode(t, "node1", func(n *corev1.Node) { n.Spec.Unschedulable = true })
	cordoned := time.Now()
	waitFor(t, "the route tagged GRACEFUL_SHUTDOWN", func() (bool, string) {
		p := paths()
		return len(p) == 1 && p[0].gshut, fmt.Sprintf("%+v", p)
	})
	waitFor(t, "the route withdrawn", func() (bool, string) {
		p := paths()
		return len(p) == 0, fmt.Sprintf("%+v", p)
	})
	if took := time.Since(cordoned); took < period {
		t.Errorf("withdrawn %v after the cordon, before the %v period", took, period)
	}
}

type bgpPathView struct {
	prefix string
	gshut  bool
}

// TestSilentSpeakersAreGoneBeforeTheirLeasesExpire: two of three speakers
// vanish from memberlist. While their Leases are renewed they still count,
// and the third, a minority, claims nothing; once they die (their Leases
// go unrenewed) it claims SilentAfter later, long before the Leases
// expire.
func TestSilentSpeakersAreGoneBeforeTheirLeasesExpire(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1", "node2", "node3")
	renewed(t, "node2")
	renewed(t, "node3")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	const silentAfter = 1500 * time.Millisecond
	h := start(t, "node1", mem, func(o *Options) { o.RenewInterval, o.SilentAfter = 300*time.Millisecond, silentAfter })
	h.waitApplied(mineOf("node1", all3, "198.51.100.64"))

	// Cut off from both in memberlist, while both keep renewing.
	ctx, cancel := context.WithCancel(context.Background())
	renewing := make(chan struct{})
	go func() {
		defer close(renewing)
		for ctx.Err() == nil {
			renewAgain(t, "node2")
			renewAgain(t, "node3")
			time.Sleep(300 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-renewing })
	mem.set(members(t, 1)...)
	h.waitApplied(nil)
	const minority = "1 of 3 known speakers alive: does not claim (no majority)"
	waitFor(t, "a minority record", func() (bool, string) { q := quorumOfNode("node1"); return q == minority, q })
	// Proof that a silence was judged: node1 has renewed its own Lease
	// more than SilentAfter after it lost the others.
	lost := time.Now()
	waitFor(t, "an own renewal past SilentAfter", func() (bool, string) {
		l := &coordinationv1.Lease{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: ObjectName("node1")}, l); err != nil || l.Spec.RenewTime == nil {
			return false, fmt.Sprint(err)
		}
		return l.Spec.RenewTime.After(lost.Add(2 * silentAfter)), l.Spec.RenewTime.String()
	})
	if got, q := h.ann.Applied(), quorumOfNode("node1"); len(got) != 0 || q != minority {
		t.Fatalf("while the others renew: claimed %v, quorum %q", got, q)
	}
	// Both die: node1 claims within SilentAfter and a renewal.
	cancel()
	<-renewing
	stopped := time.Now()
	h.waitApplied(mineOf("node1", []string{"node1"}, "198.51.100.64"))
	if took := time.Since(stopped); took < silentAfter-300*time.Millisecond || took > silentAfter+2*time.Second {
		t.Errorf("claimed %v after the last renewals, want about %v", took, silentAfter)
	}
}

// renewAgain renews node's speaker Lease now.
func renewAgain(t *testing.T, node string) {
	l := &coordinationv1.Lease{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: ObjectName(node)}, l); err != nil {
		t.Error(err)
		return
	}
	l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Now()))
	if err := env.Client.Update(context.Background(), l); err != nil {
		t.Error(err)
	}
}

// heraldNode returns node's HeraldNode status, empty while there is none.
func heraldNode(node string) (v1beta1.HeraldNodeStatus, error) {
	var hn v1beta1.HeraldNode
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: node}, &hn)
	return hn.Status, err
}

// quorumOfNode is node's quorum sentence, as its HeraldNode says.
func quorumOfNode(node string) string {
	st, _ := heraldNode(node)
	return st.Quorum.Reason
}
