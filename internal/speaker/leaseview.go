package speaker

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// leaseView is what the plan reads from a speaker's Lease: who holds it,
// where it is dialled, whether it counts, and whether it has expired. A
// renewal changes none of these, so it need not replan (issue 16.8).
type leaseView struct {
	holder, addr string
	speaker      bool
	expired      bool
}

func viewOf(l *coordinationv1.Lease, now time.Time) leaseView {
	v := leaseView{addr: l.Annotations[AnnotationMemberlistAddr], speaker: l.Labels[LabelComponent] == componentValue}
	if l.Spec.HolderIdentity != nil {
		v.holder = *l.Spec.HolderIdentity
	}
	var renewed time.Time
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.Time
	}
	var d time.Duration
	if l.Spec.LeaseDurationSeconds != nil {
		d = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	v.expired = renewed.IsZero() || renewed.Add(d).Before(now)
	return v
}

// replans says whether an update from the informer cache changes what the
// plan reads. Only speaker Leases whose view is unchanged are skipped: the
// tie-breaker's every version matters, for each speaker judges its expiry
// by when it first saw that version.
func replans(old, next any, now time.Time) bool {
	o, ok1 := old.(*coordinationv1.Lease)
	n, ok2 := next.(*coordinationv1.Lease)
	if !ok1 || !ok2 || n.Name == TieBreakerLease {
		return true
	}
	return viewOf(o, now) != viewOf(n, now)
}
