package speaker

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/kube"
)

// fieldOwner names the speaker in server-side apply.
const fieldOwner = "herald-speaker"

// renewLease writes this node's Lease: holder, duration, renewal time and
// memberlist address. Server-side apply creates it the first time and
// renews it after, in one request.
func (s *Speaker) renewLease(now time.Time) write {
	l := &coordinationv1.Lease{
		TypeMeta: metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   kube.Namespace,
			Name:        ObjectName(s.opts.Node),
			Labels:      leaseLabels(componentValue),
			Annotations: map[string]string{AnnotationMemberlistAddr: s.opts.MemberlistAddr.String()},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(s.opts.Node),
			LeaseDurationSeconds: ptr.To(int32(s.opts.LeaseDuration / time.Second)),
			RenewTime:            ptr.To(metav1.NewMicroTime(now)),
		},
	}
	return write{kind: "lease", do: func(ctx context.Context) error {
		l.OwnerReferences = s.ownedByNode(ctx)
		if err := s.deps.Client.Patch(ctx, l, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("renew Lease %s/%s: %w", kube.Namespace, l.Name, err)
		}
		return nil
	}}
}

// writeNode publishes this node's status in its HeraldNode, named after
// the node and owned by it. Server-side apply creates it the first time.
func (s *Speaker) writeNode(status v1beta1.HeraldNodeStatus) write {
	hn := &v1beta1.HeraldNode{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "HeraldNode"},
		ObjectMeta: metav1.ObjectMeta{Name: s.opts.Node, Labels: map[string]string{LabelComponent: componentValue}},
		Status:     status,
	}
	return write{kind: "node", do: func(ctx context.Context) error {
		hn.OwnerReferences = s.ownedByNode(ctx)
		if err := s.deps.Client.Patch(ctx, hn, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("write HeraldNode %s: %w", hn.Name, err)
		}
		s.opts.Metrics.NodeWrites.Inc()
		return nil
	}}
}

// ownedByNode is the owner reference of this node's Lease to its Node, so
// that the garbage collector deletes the Lease with the Node and no speaker
// dials a deleted node's address. The Node comes from the informer cache;
// while it is not there, the Lease is written without an owner and gains
// one on a later renewal.
func (s *Speaker) ownedByNode(ctx context.Context) []metav1.OwnerReference {
	var n corev1.Node
	if err := s.deps.Cache.Get(ctx, client.ObjectKey{Name: s.opts.Node}, &n); err != nil {
		s.opts.Log.V(1).Info("this node is not in the cache; its Lease has no owner yet", "error", err.Error())
		return nil
	}
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}}
}

// tieWrite carries out a tie-breaker action with an optimistic update on
// the Lease as last seen (old, nil when it does not exist): if another
// speaker wrote it meanwhile, the write fails with a conflict and this
// speaker simply does not get it.
func (s *Speaker) tieWrite(a election.TieAction, old *coordinationv1.Lease, side []string, now time.Time) write {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: TieBreakerLease}}
	if old != nil {
		l = old.DeepCopy()
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	if l.Labels == nil {
		l.Labels = map[string]string{}
	}
	maps.Copy(l.Labels, leaseLabels(tieBreakerComponent))
	switch a {
	case election.TieAcquire, election.TieRenew:
		if a == election.TieAcquire {
			l.Spec.AcquireTime = ptr.To(metav1.NewMicroTime(now))
		}
		l.Spec.HolderIdentity = ptr.To(s.opts.Node)
		l.Spec.LeaseDurationSeconds = ptr.To(int32(s.opts.TieBreakerDuration / time.Second))
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(now))
		l.Annotations[AnnotationSide] = strings.Join(side, ",")
	case election.TieRelease:
		l.Spec.HolderIdentity = nil
		delete(l.Annotations, AnnotationSide)
	}
	return write{kind: "tie", do: func(ctx context.Context) error {
		var err error
		if old == nil {
			err = s.deps.Client.Create(ctx, l)
		} else {
			err = s.deps.Client.Update(ctx, l)
		}
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			// Another speaker moved first, or the cache had not yet shown
			// our own last write: the next plan reads it afresh.
			s.opts.Log.V(1).Info("tie-breaker Lease changed meanwhile", "action", a.String())
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s tie-breaker Lease: %w", a, err)
		}
		return nil
	}}
}

// labelTieBreaker labels a tie-breaker Lease that a speaker of an earlier
// release created without labels, so that the cache, which holds only
// labelled Leases, sees it. The merge patch of labels alone leaves its
// holder as it is, and changes nothing once they are there. It goes to the
// apiserver: the cache could not show the unlabelled Lease.
func (s *Speaker) labelTieBreaker(ctx context.Context) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": leaseLabels(tieBreakerComponent)}})
	if err != nil {
		return fmt.Errorf("label the tie-breaker Lease: %w", err)
	}
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: TieBreakerLease}}
	if err := s.deps.Client.Patch(ctx, l, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("label the tie-breaker Lease: %w", err)
	}
	return nil
}

// forget deletes this node's Lease and HeraldNode: a speaker that stops on
// purpose leaves the known set at once, instead of a Lease duration later,
// and no stale status says it still announces.
func (s *Speaker) forget(ctx context.Context) error {
	var errs []string
	for _, obj := range []client.Object{
		&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: ObjectName(s.opts.Node)}},
		&v1beta1.HeraldNode{ObjectMeta: metav1.ObjectMeta{Name: s.opts.Node}},
	} {
		if err := s.deps.Client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete this node's Lease and HeraldNode: %s", strings.Join(errs, "; "))
	}
	return nil
}
