package reconcile

import (
	"context"
	"errors"
	"slices"
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

	d, err := r.compareCache(context.Background(), term)
	if err != nil || !slices.Equal(d.missing, []string{"a/new"}) || len(d.gone) != 0 {
		t.Fatalf("compareCache = %+v, %v; want a/new missing", d, err)
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

// TestSweepReleasesWhatTheCacheNeverSaw: a Service read from the apiserver
// because the cache lacked it, then deleted before the cache saw it, raises
// no event. The sweep finds it gone from both, and its IP is released.
func TestSweepReleasesWhatTheCacheNeverSaw(t *testing.T) {
	st, term := leadingState(t)
	st.markUncached(term, "a/gone", "a/listed", "a/cached")
	api := fakeReader(t, nil, lbService("a", "listed"))
	cache := fakeReader(t, nil, lbService("a", "cached"))
	r := &ServiceReconciler{reader: cache, api: api, st: st, class: ourClass, metrics: st.metrics}

	d, err := r.compareCache(context.Background(), term)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.gone, []string{"a/gone"}) || !slices.Equal(d.missing, []string{"a/listed"}) || d.uncached != 2 {
		t.Errorf("compareCache = %+v; want a/gone gone, a/listed missing, 2 uncached", d)
	}
	if st.apiOnly(term, "a/cached") {
		t.Error("a Service the cache shows is still read from the apiserver")
	}
	// The sweep's request for a/gone: the apiserver has no such Service,
	// so it is forgotten, and the next sweep finds only a/listed.
	st.done(term, kindService, "a/gone", "")
	if d, _ := r.compareCache(context.Background(), term); len(d.gone) != 0 || d.uncached != 1 {
		t.Errorf("after the release: %+v; want nothing gone, 1 uncached", d)
	}
}
