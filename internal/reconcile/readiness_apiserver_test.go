package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestReadinessConditions: an advertisement naming a pool that does not
// exist is Ready False UnknownPool until the pool is created; a
// BGPAdvertisement naming an unknown peer likewise; a valid BGPPeer is
// Ready True.
func TestReadinessConditions(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "rdy-pool")
	l2 := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "rdy-l2"},
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"rdy-pool"}}}
	bgp := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "rdy-bgp"},
		Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"rdy-pool"}, Peers: []string{"rdy-peer"}}}
	asn := v1beta1.ASN(64512)
	peer := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "rdy-peer"},
		Spec: v1beta1.BGPPeerSpec{MyASN: 64513, PeerASN: &asn, PeerAddress: "198.51.100.1"}}
	create(t, l2, bgp)
	waitReady(t, l2, metav1.ConditionFalse, "UnknownPool", `names pool "rdy-pool" which does not exist`)
	waitReady(t, bgp, metav1.ConditionFalse, "UnknownPool", `"rdy-pool"`)

	createPool(t, "rdy-pool", ns, []string{"198.51.100.160/29"})
	waitReady(t, l2, metav1.ConditionTrue, "Accepted", "selects pool rdy-pool")
	waitReady(t, bgp, metav1.ConditionFalse, "UnknownPeer", `names peer "rdy-peer" which does not exist`)

	create(t, peer)
	waitReady(t, peer, metav1.ConditionTrue, "Accepted", "198.51.100.1")
	waitReady(t, bgp, metav1.ConditionTrue, "Accepted", "selects pool rdy-pool")
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), o) })
	}
}

// waitReady waits for obj's Ready condition, at its current generation, to
// have the status and reason, and a message containing msg.
func waitReady(t *testing.T, obj client.Object, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	eventually(t, 15*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(readyConds(obj), ConditionReady)
		if c == nil || c.Status != status || c.Reason != reason || !strings.Contains(c.Message, msg) || c.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("%s Ready = %+v, want %s %s %q", obj.GetName(), c, status, reason, msg)
		}
		return nil
	})
}

func readyConds(obj client.Object) []metav1.Condition {
	switch o := obj.(type) {
	case *v1beta1.L2Advertisement:
		return o.Status.Conditions
	case *v1beta1.BGPAdvertisement:
		return o.Status.Conditions
	case *v1beta1.BGPPeer:
		return o.Status.Conditions
	case *v1beta1.Community:
		return o.Status.Conditions
	}
	return nil
}

// TestReadinessAfterTakeover: a standby drops the changes it sees, so a new
// leader must recompute every condition when its term begins, even if
// nothing changes after that.
func TestReadinessAfterTakeover(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	var frozen pauser
	a := startManager(t, &frozen, leaderAs(ns, "a"))
	t.Cleanup(func() { frozen.resume() }) // before a is stopped
	waitLeads(t, a)
	b := startManager(t, nil, leaderAs(ns, "b"))
	cleanup(t, ns, "rdy-ho-pool")
	l2 := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "rdy-ho"},
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"rdy-ho-pool"}}}
	create(t, l2)
	waitReady(t, l2, metav1.ConditionFalse, "UnknownPool", `"rdy-ho-pool"`)

	// a freezes; the pool arrives while b is still a standby, which drops
	// the work.
	frozen.pause()
	dropped := testutil.ToFloat64(b.metrics.Reconciles.WithLabelValues("readiness", "standby"))
	createPool(t, "rdy-ho-pool", ns, []string{"198.51.100.168/29"})
	eventually(t, 10*time.Second, func() error {
		if n := testutil.ToFloat64(b.metrics.Reconciles.WithLabelValues("readiness", "standby")); n == dropped || leads(b) {
			return fmt.Errorf("b dropped %v readiness reconciles (leads: %v), want one more while standby", n, leads(b))
		}
		return nil
	})
	// b takes over and writes the new verdict; a's writes are still held.
	waitReady(t, l2, metav1.ConditionTrue, "Accepted", "selects pool rdy-ho-pool")
	if !leads(b) {
		t.Fatal("Ready turned True, but b does not lead")
	}
}
