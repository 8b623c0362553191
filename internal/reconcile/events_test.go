package reconcile

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestEventPaceDue(t *testing.T) {
	p := eventPace{Quiet: 300 * time.Millisecond, MaxDelay: 10 * time.Second, PerTick: 10}
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	tests := []struct {
		name             string
		now, last, first time.Time
		held, want       int
	}{
		{"nothing held", t0.Add(time.Hour), t0, t0, 0, 0},
		{"recording still going on", t0.Add(100 * ms), t0, t0, 5, 0},
		{"quiet long enough", t0.Add(300 * ms), t0, t0, 5, 5},
		{"paced", t0.Add(time.Second), t0, t0, 25, 10},
		{"burst never pauses: the oldest is due", t0.Add(10 * time.Second), t0.Add(10*time.Second - ms), t0, 25, 10},
		{"burst, oldest not yet due", t0.Add(9 * time.Second), t0.Add(9*time.Second - ms), t0, 25, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.due(tt.now, tt.last, tt.first, tt.held); got != tt.want {
				t.Errorf("due = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDeferredEventsHoldNormalAndPassWarnings(t *testing.T) {
	fake := record.NewFakeRecorder(100)
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	d := newDeferredEvents(fake, clk, eventPace{Quiet: time.Second, MaxDelay: time.Minute, Tick: 100 * time.Millisecond, PerTick: 2})
	svc := &corev1.Service{}
	d.Eventf(svc, corev1.EventTypeWarning, "AllocationFailed", "pool %q is exhausted", "p")
	for range 3 {
		d.Event(svc, corev1.EventTypeNormal, "IPAllocated", "Assigned IP")
	}
	if got := len(fake.Events); got != 1 {
		t.Fatalf("%d events passed at once, want only the warning", got)
	}
	if got := d.take(false); len(got) != 0 {
		t.Fatalf("took %d before the quiet period", len(got))
	}
	clk.Step(time.Second)
	d.send(d.take(false))
	if got := len(fake.Events); got != 3 {
		t.Fatalf("%d events after one paced take, want 1+2", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(fake.Events); got != 4 {
		t.Fatalf("%d events after stop, want all 4 sent", got)
	}
}
