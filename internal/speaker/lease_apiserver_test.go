package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

// The speaker's Lease names its Node as owner, so that the garbage
// collector removes it with the Node (issue 16.3). The test apiserver runs
// no garbage collector: the reference is what is tested.
func TestLeaseIsOwnedByItsNode(t *testing.T) {
	setUp(t)
	var node corev1.Node
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "node1"}, &node); err != nil {
		t.Fatal(err)
	}
	start(t, "node1", newFakeMembership())
	want := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: "node1", UID: node.UID}
	waitFor(t, "Lease owned by node1", func() (bool, string) {
		var l coordinationv1.Lease
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: kube.Namespace, Name: ObjectName("node1")}, &l)
		return err == nil && slices.Equal(l.OwnerReferences, []metav1.OwnerReference{want}), fmt.Sprintf("%v %v", l.OwnerReferences, err)
	})
}

// A Lease that expired, such as a deleted node's, is neither dialled nor
// counted as a known speaker (issue 16.3).
func TestExpiredLeaseIsNotDialledNorKnown(t *testing.T) {
	setUp(t)
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	for i, at := range map[int]metav1.MicroTime{2: metav1.NewMicroTime(time.Now()), 3: old} {
		node := fmt.Sprintf("node%d", i)
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName(node), Labels: map[string]string{LabelComponent: componentValue},
				Annotations: map[string]string{AnnotationMemberlistAddr: fmt.Sprintf("198.51.100.%d:7946", 10+i)}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(node), LeaseDurationSeconds: ptr.To[int32](30), RenewTime: &at},
		}
		if err := env.Client.Create(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	mem := newFakeMembership()
	mem.set(members(t, 1, 2)...)
	start(t, "node1", mem)
	waitFor(t, "record counting node1 and node2 only", func() (bool, string) {
		st, err := heraldNode("node1")
		return err == nil && st.Quorum.Reason == "2 of 2 known speakers alive: claims", fmt.Sprintf("%+v %v", st.Quorum, err)
	})
	d, _ := mem.state()
	if want := []netip.AddrPort{netip.MustParseAddrPort("198.51.100.11:7946"), netip.MustParseAddrPort("198.51.100.12:7946")}; !slices.Equal(d.Peers, want) {
		t.Errorf("memberlist peers = %v, want %v", d.Peers, want)
	}
}

// The speaker's cache holds the speakers' Leases and the tie-breaker only;
// an earlier release's Leases, labelled by component alone, are still
// found, and its unlabelled tie-breaker is labelled at start (issue 16.8).
func TestCacheSelectsSpeakerLeases(t *testing.T) {
	setUp(t)
	ctx := context.Background()
	now := metav1.NewMicroTime(time.Now())
	for _, l := range []*coordinationv1.Lease{
		{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "herald-controller"}, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("c")}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: TieBreakerLease}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName("node2"), Labels: map[string]string{LabelComponent: componentValue}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("node2"), LeaseDurationSeconds: ptr.To[int32](30), RenewTime: &now}},
	} {
		if err := env.Client.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	h := start(t, "node1", newFakeMembership())
	waitFor(t, "the speakers' Leases and the tie-breaker in the cache", func() (bool, string) {
		var list coordinationv1.LeaseList
		if err := h.cache.List(ctx, &list, client.InNamespace(kube.Namespace)); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, l := range list.Items {
			names = append(names, l.Name)
		}
		slices.Sort(names)
		want := []string{TieBreakerLease, ObjectName("node1"), ObjectName("node2")}
		slices.Sort(want)
		return slices.Equal(names, want), fmt.Sprint(names)
	})
	var own coordinationv1.Lease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: ObjectName("node1")}, &own); err != nil {
		t.Fatal(err)
	}
	if own.Labels[LabelName] != "herald" || own.Labels[LabelComponent] != componentValue {
		t.Errorf("own Lease labels = %v", own.Labels)
	}
}
