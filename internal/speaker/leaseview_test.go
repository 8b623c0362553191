package speaker

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestReplans(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(name string, renewed time.Time, mod func(*coordinationv1.Lease)) *coordinationv1.Lease {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelComponent: componentValue},
				Annotations: map[string]string{AnnotationMemberlistAddr: "198.51.100.1:7946"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("a"), LeaseDurationSeconds: ptr.To[int32](30), RenewTime: ptr.To(metav1.NewMicroTime(renewed))},
		}
		if mod != nil {
			mod(l)
		}
		return l
	}
	old := lease("herald-speaker-a", now.Add(-time.Second), nil)
	tests := []struct {
		name      string
		old, next any
		want      bool
	}{
		{"renewed", old, lease("herald-speaker-a", now, nil), false},
		{"renewed with a new resourceVersion", old, lease("herald-speaker-a", now, func(l *coordinationv1.Lease) { l.ResourceVersion = "9" }), false},
		{"renewed after it expired", lease("herald-speaker-a", now.Add(-time.Minute), nil), lease("herald-speaker-a", now, nil), true},
		{"new memberlist address", old, lease("herald-speaker-a", now, func(l *coordinationv1.Lease) { l.Annotations[AnnotationMemberlistAddr] = "198.51.100.2:7946" }), true},
		{"new holder", old, lease("herald-speaker-a", now, func(l *coordinationv1.Lease) { l.Spec.HolderIdentity = ptr.To("b") }), true},
		{"holder gone", old, lease("herald-speaker-a", now, func(l *coordinationv1.Lease) { l.Spec.HolderIdentity = nil }), true},
		{"label dropped", old, lease("herald-speaker-a", now, func(l *coordinationv1.Lease) { l.Labels = nil }), true},
		{"tie-breaker renewed", lease(TieBreakerLease, now.Add(-time.Second), nil), lease(TieBreakerLease, now, nil), true},
		{"not a Lease", &corev1.Node{}, &corev1.Node{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replans(tt.old, tt.next, now); got != tt.want {
				t.Errorf("replans = %v, want %v", got, tt.want)
			}
		})
	}
}
