package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// TestSweepEnqueuesWhatTheCacheLacks: a term whose cache lags behind the
// apiserver enqueues the Services the cache lacks, lets the reconciler read
// them from the apiserver, and stops once the cache is complete.
func TestSweepEnqueuesWhatTheCacheLacks(t *testing.T) {
	st, term := leadingState(t)
	q := newTestQueue()
	defer q.ShutDown()
	st.setQueue(false, q)
	api := fakeReader(t, nil, lbService("a", "old"), lbService("a", "new"))
	cache := fakeReader(t, nil, lbService("a", "old"))
	r := &ServiceReconciler{reader: cache, api: api, st: st, class: ourClass, metrics: st.metrics}

	missing, err := r.missingFromCache(context.Background())
	if err != nil || len(missing) != 1 || missing[0].String() != "a/new" {
		t.Fatalf("missingFromCache = %v, %v; want a/new", missing, err)
	}

	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { r.sweep(ctx, term, clk, time.Second); close(done) }()
	waiting := func() {
		testEventually(t, func() error {
			if !clk.HasWaiters() {
				return errors.New("the sweep is not waiting")
			}
			return nil
		})
	}
	step := func() { waiting(); clk.Step(time.Second) }
	step()
	testEventually(t, func() error {
		if q.Len() == 0 {
			return errors.New("nothing enqueued")
		}
		return nil
	})
	if got := strings.Join(drain(q), ","); got != "a/new" {
		t.Errorf("enqueued %s, want a/new", got)
	}
	if !st.apiOnly(term, "a/new") || st.apiOnly(term, "a/old") {
		t.Errorf("apiOnly: a/new %v, a/old %v; want only a/new", st.apiOnly(term, "a/new"), st.apiOnly(term, "a/old"))
	}
	// The cache catches up; two complete sweeps end it.
	waiting()
	r.reader = api
	step()
	step()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the sweep did not stop once the cache was complete")
	}
}
