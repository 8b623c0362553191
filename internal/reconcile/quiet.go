package reconcile

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// allocationQuiet tells writes that can wait when allocations pause. The
// Service reconciler touches it at each status write that gives a Service
// its IPs; the ServiceAnnouncement reconciler waits for it before its own
// writes. In a burst the apiserver's capacity, and the client's rate limit,
// then go to the status writes that clients wait for, as with the Events
// (see deferredEvents), and the announcements follow once allocation
// pauses. Nothing is dropped: a wait only delays.
type allocationQuiet struct {
	clock clock.Clock
	// quiet is how long allocation must pause; maxWait bounds how long a
	// burst that never pauses holds announcements back: from the first
	// wait of the burst, not from each reconcile's, or a long burst would
	// let two reconciles through every maxWait and leave thousands of
	// announcements stale for hours.
	quiet, maxWait time.Duration

	mu    sync.Mutex
	last  time.Time // the last allocation
	since time.Time // when the first wait of this burst began; zero once allocation pauses
}

// Defaults of allocationQuiet: the quiet of the Events' pacer, and a bound
// on the delay shorter than the announcement grace is long.
const (
	defaultAllocationQuiet   = 500 * time.Millisecond
	defaultAnnouncementDelay = 5 * time.Second
)

func newAllocationQuiet(c clock.Clock, quiet, maxWait time.Duration) *allocationQuiet {
	return &allocationQuiet{clock: c, quiet: quiet, maxWait: maxWait}
}

// touch records an allocation.
func (q *allocationQuiet) touch() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = q.clock.Now()
}

// left is how much longer a wait must last: until allocation has paused
// for quiet, and at most maxWait after the burst's first wait began.
func (q *allocationQuiet) left() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	quiet := q.quiet - now.Sub(q.last)
	if quiet <= 0 {
		q.since = time.Time{}
		return 0
	}
	if q.since.IsZero() {
		q.since = now
	}
	return min(quiet, q.maxWait-now.Sub(q.since))
}

// wait returns once allocation has paused for quiet, or the burst has held
// announcements back for maxWait, or ctx has ended (then with its error).
func (q *allocationQuiet) wait(ctx context.Context) error {
	for {
		d := q.left()
		if d <= 0 {
			return nil
		}
		t := q.clock.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}
