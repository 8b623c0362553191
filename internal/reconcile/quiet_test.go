package reconcile

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestAllocationQuietLeft(t *testing.T) {
	c := clocktesting.NewFakeClock(time.Unix(1000, 0))
	q := newAllocationQuiet(c, 500*time.Millisecond, 5*time.Second)
	if d := q.left(); d > 0 {
		t.Errorf("no allocation yet: left %v, want none", d)
	}
	q.touch()
	start := c.Now()
	if d := q.left(); d != 500*time.Millisecond {
		t.Errorf("just allocated: left %v, want the quiet, 500ms", d)
	}
	// Allocations every 400ms never leave a quiet of 500ms: the wait ends
	// at its bound.
	for range 13 {
		c.Step(400 * time.Millisecond)
		q.touch()
	}
	if d := q.left(); d > 0 {
		t.Errorf("after %v of allocations: left %v, want none (bounded by 5s)", c.Since(start), d)
	}
	// A reconcile that begins to wait while the same burst goes on does
	// not wait again: the burst has held announcements back for the bound.
	c.Step(100 * time.Millisecond)
	q.touch()
	if d := q.left(); d > 0 {
		t.Errorf("a new wait %v into the burst: left %v, want none", c.Since(start), d)
	}
	// Once allocation pauses, the next burst is waited for anew.
	c.Step(600 * time.Millisecond)
	if d := q.left(); d > 0 {
		t.Errorf("after a pause: left %v, want none", d)
	}
	q.touch()
	c.Step(300 * time.Millisecond)
	if d := q.left(); d != 200*time.Millisecond {
		t.Errorf("a new burst, 300ms after its allocation: left %v, want 200ms", d)
	}
}

func TestAllocationQuietWait(t *testing.T) {
	c := clocktesting.NewFakeClock(time.Unix(1000, 0))
	q := newAllocationQuiet(c, 500*time.Millisecond, 5*time.Second)
	q.touch()
	done := make(chan error, 1)
	go func() { done <- q.wait(context.Background()) }()
	waitWaiter(t, c)
	c.Step(300 * time.Millisecond)
	q.touch()
	c.Step(200 * time.Millisecond) // the first timer fires, too early now
	waitWaiter(t, c)
	select {
	case err := <-done:
		t.Fatalf("wait returned (%v) 200ms after an allocation", err)
	default:
	}
	c.Step(300 * time.Millisecond)
	if err := <-done; err != nil {
		t.Errorf("wait = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	q.touch()
	go func() { done <- q.wait(ctx) }()
	waitWaiter(t, c)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("wait after cancel = %v, want context.Canceled", err)
	}
}

// waitWaiter waits until something waits on c's timers.
func waitWaiter(t *testing.T, c *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !c.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("nothing waits on the clock")
		}
		time.Sleep(time.Millisecond)
	}
}
