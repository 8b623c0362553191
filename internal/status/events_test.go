package status

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEvents(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ev := func(name string, ago time.Duration, obj corev1.ObjectReference, src corev1.EventSource, reporter string) corev1.Event {
		return corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name}, InvolvedObject: obj, Source: src, ReportingController: reporter,
			Type: corev1.EventTypeNormal, Reason: name, Message: "about " + name, LastTimestamp: metav1.NewTime(now.Add(-ago))}
	}
	svc := corev1.ObjectReference{Kind: "Service", Name: "web", APIVersion: "v1"}
	pool := corev1.ObjectReference{Kind: "IPAddressPool", Name: "lan", APIVersion: "heraldlb.io/v1beta1"}
	evs := []corev1.Event{
		ev("Announcing", time.Minute, svc, corev1.EventSource{Component: "herald-speaker"}, ""),
		ev("IPAllocated", 5*time.Minute, svc, corev1.EventSource{}, "herald-controller"),
		ev("Overlapping", 2*time.Minute, pool, corev1.EventSource{}, ""),
		ev("Scheduled", time.Minute, svc, corev1.EventSource{Component: "kube-scheduler"}, ""),
		ev("Old", 3*time.Hour, svc, corev1.EventSource{Component: "herald-speaker"}, ""),
	}
	for _, tt := range []struct {
		name  string
		since time.Time
		want  []string
	}{
		{"all, newest last", time.Time{}, []string{"Old", "IPAllocated", "Overlapping", "Announcing"}},
		{"since an hour", now.Add(-time.Hour), []string{"IPAllocated", "Overlapping", "Announcing"}},
	} {
		rows := Events(evs, tt.since)
		var got []string
		for _, r := range rows {
			got = append(got, r.Reason)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	var out bytes.Buffer
	if err := WriteEvents(&out, Events(evs, time.Time{}), now); err != nil {
		t.Fatal(err)
	}
	if want := `(?m)^5m\s+demo\s+Service/web\s+Normal\s+IPAllocated\s+herald-controller\s+about IPAllocated$`; !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("table lacks %q:\n%s", want, out.String())
	}
}
