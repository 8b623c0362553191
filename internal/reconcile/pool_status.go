package reconcile

import (
	"fmt"
	"math/big"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Pool condition types and reasons.
const (
	ConditionReady             = "Ready"
	ConditionDeleting          = "Deleting"
	ConditionAddressesOrphaned = "AddressesOrphaned"

	ReasonReady        = "Ready"
	ReasonBeingDeleted = "BeingDeleted"
	ReasonInUse        = "InUse"
	ReasonOutsidePool  = "AddressesOutsidePool"
	ReasonNoOrphans    = "NoOrphans"
)

// poolStatus returns the status a pool should have, given its current status
// and the facts. It is pure: conditions keep their lastTransitionTime unless
// their status changes, so an unchanged pool gives an identical status.
func poolStatus(cur v1beta1.IPAddressPoolStatus, generation int64, deleting bool, f poolFacts, now metav1.Time) v1beta1.IPAddressPoolStatus {
	out := *cur.DeepCopy()
	out.ObservedGeneration = generation
	v4, v6 := f.Stats.IPv4, f.Stats.IPv6
	out.AssignedIPv4, out.AvailableIPv4 = count(v4.InUse), count(v4.Available)
	out.AssignedIPv6, out.AvailableIPv6 = count(v6.InUse), count(v6.Available)
	out.InUse = sum(v4.InUse, v6.InUse)
	out.Available = sum(v4.Available, v6.Available)

	set := func(c metav1.Condition) {
		c.ObservedGeneration = generation
		c.LastTransitionTime = now
		meta.SetStatusCondition(&out.Conditions, c)
	}
	switch {
	case !f.InForce:
		set(metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: f.Problem.Reason, Message: f.Problem.Message})
	case deleting:
		set(metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonBeingDeleted,
			Message: "the pool is being deleted: it gives out no new address"})
	default:
		set(metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonReady, Message: "the pool gives out addresses"})
	}
	if deleting {
		set(metav1.Condition{Type: ConditionDeleting, Status: metav1.ConditionTrue, Reason: ReasonInUse,
			Message: fmt.Sprintf("deletion waits for %s that still use addresses of this pool", plural(f.Users, "Service"))})
	} else {
		meta.RemoveStatusCondition(&out.Conditions, ConditionDeleting)
	}
	if f.Orphans > 0 {
		set(metav1.Condition{Type: ConditionAddressesOrphaned, Status: metav1.ConditionTrue, Reason: ReasonOutsidePool,
			Message: fmt.Sprintf("%s keep addresses that this pool no longer contains", plural(f.Orphans, "Service"))})
	} else {
		set(metav1.Condition{Type: ConditionAddressesOrphaned, Status: metav1.ConditionFalse, Reason: ReasonNoOrphans,
			Message: "every Service of this pool holds addresses the pool contains"})
	}
	return out
}

func count(n *big.Int) string {
	if n == nil {
		return "0"
	}
	return n.String()
}

func sum(a, b *big.Int) string {
	s := new(big.Int)
	if a != nil {
		s.Add(s, a)
	}
	if b != nil {
		s.Add(s, b)
	}
	return s.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
