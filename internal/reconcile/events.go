package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// deferredEvents is an EventRecorder that holds Normal Events back while
// allocations are in flight. During a burst the apiserver's capacity then goes
// to the status writes that clients wait for, and the Events follow once
// allocation pauses, paced so that client-go's broadcaster, which drops what
// does not fit its queue, never overflows. Warnings are not held back: they
// are rare and say something is wrong.
type deferredEvents struct {
	rec   record.EventRecorder
	clock clock.WithTicker
	pace  eventPace

	mu       sync.Mutex
	pending  []heldEvent
	lastSeen time.Time // when the last Event was recorded
}

type heldEvent struct {
	at                     time.Time
	obj                    runtime.Object
	eventtype, reason, msg string
}

// eventPace says when held Events go out.
type eventPace struct {
	// Quiet is how long recording must pause before held Events go out.
	Quiet time.Duration
	// MaxDelay bounds how long an Event is held, burst or not.
	MaxDelay time.Duration
	// Tick and PerTick set the rate at which held Events go out.
	Tick    time.Duration
	PerTick int
}

var defaultEventPace = eventPace{Quiet: 500 * time.Millisecond, MaxDelay: 30 * time.Second, Tick: 50 * time.Millisecond, PerTick: 10}

// due is how many of the held Events to send now.
func (p eventPace) due(now, lastSeen, oldest time.Time, held int) int {
	if held == 0 {
		return 0
	}
	if now.Sub(lastSeen) < p.Quiet && now.Sub(oldest) < p.MaxDelay {
		return 0
	}
	return min(held, p.PerTick)
}

func newDeferredEvents(rec record.EventRecorder, c clock.WithTicker, pace eventPace) *deferredEvents {
	return &deferredEvents{rec: rec, clock: c, pace: pace}
}

func (d *deferredEvents) Event(obj runtime.Object, eventtype, reason, msg string) {
	if eventtype != corev1.EventTypeNormal {
		d.rec.Event(obj, eventtype, reason, msg)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	d.lastSeen = now
	d.pending = append(d.pending, heldEvent{at: now, obj: obj, eventtype: eventtype, reason: reason, msg: msg})
}

func (d *deferredEvents) Eventf(obj runtime.Object, eventtype, reason, format string, args ...any) {
	d.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

func (d *deferredEvents) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, format string, args ...any) {
	// Annotated Events are not used by Herald; pass them through.
	d.rec.AnnotatedEventf(obj, annotations, eventtype, reason, format, args...)
}

// take removes and returns the Events due now.
func (d *deferredEvents) take(all bool) []heldEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.pending)
	if !all && n > 0 {
		n = d.pace.due(d.clock.Now(), d.lastSeen, d.pending[0].at, n)
	}
	out := d.pending[:n:n]
	d.pending = d.pending[n:]
	return out
}

func (d *deferredEvents) send(evs []heldEvent) {
	for _, e := range evs {
		d.rec.Event(e.obj, e.eventtype, e.reason, e.msg)
	}
}

// Start sends held Events as they fall due, until ctx ends; then it sends
// what is left.
func (d *deferredEvents) Start(ctx context.Context) error {
	t := d.clock.NewTicker(d.pace.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.send(d.take(true))
			return nil
		case <-t.C():
			d.send(d.take(false))
		}
	}
}
