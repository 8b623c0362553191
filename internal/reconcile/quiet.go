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
	// quiet is how long allocation must pause; maxWait bounds one wait,
	// so that a burst that never pauses delays announcements by that
	// much, not for ever.
	quiet, maxWait time.Duration

	mu   sync.Mutex
	last time.Time // the last allocation
}

// Defaults of allocationQuiet: the quiet of the Events' pacer, and a bound
// on a wait shorter than the announcement grace is long.
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

// left is how much longer a wait that began at start must last: until
// allocation has paused for quiet, and at most maxWait after start.
func (q *allocationQuiet) left(start time.Time) time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	return min(q.quiet-now.Sub(q.last), q.maxWait-now.Sub(start))
}

// wait returns once allocation has paused for quiet, or maxWait has passed,
// or ctx has ended (then with its error).
func (q *allocationQuiet) wait(ctx context.Context) error {
	start := q.clock.Now()
	for {
		d := q.left(start)
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
