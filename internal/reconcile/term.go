package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// beginTerm starts a leadership term from nothing: the first unit of work
// will load every assignment from the apiserver again.
func (s *state) beginTerm() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.lastTerm++
	s.term = s.lastTerm
	s.metrics.Leader.Set(1)
	s.metrics.LeaderTerms.Inc()
	return s.term
}

// endTerm stops the current term, if any: no new work starts, and work in
// flight gets up to grace to finish (its writes check the term first, but
// one may already be on the wire). It reports whether a term was in force,
// and whether all of its work finished.
func (s *state) endTerm(grace time.Duration) (wasLeading, finished bool) {
	s.mu.Lock()
	wg, was := s.work, s.term != 0
	s.term = 0
	s.metrics.Leader.Set(0)
	s.mu.Unlock()
	if !was {
		return false, true
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true, true
	case <-t.C:
		return true, false
	}
}

// enter starts a unit of leader work. It returns the term and a function to
// call when the work is over; ok is false when this replica does not lead.
func (s *state) enter() (term uint64, exit func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.term == 0 {
		return 0, nil, false
	}
	wg := s.work
	wg.Add(1)
	return s.term, wg.Done, true
}

// lead runs f as a unit of leader work in the current term, counts its
// outcome, and returns the error to retry. Outside a term it does nothing:
// a standby drops its work, and the next term enqueues everything. Work of
// a term that ended meanwhile is dropped too: the next leader starts over.
func (s *state) lead(ctx context.Context, controller string, f func(term uint64) error) (err error) {
	term, exit, ok := s.enter()
	if !ok {
		s.metrics.Reconciles.WithLabelValues(controller, "standby").Inc()
		return nil
	}
	defer exit()
	defer func() {
		// A panic is a failed reconcile: counted, logged and retried like
		// one, not a crash.
		if p := recover(); p != nil {
			s.metrics.Reconciles.WithLabelValues(controller, "error").Inc()
			err = fmt.Errorf("reconcile panicked: %v", p)
		}
	}()
	switch err := f(term); {
	case err == nil:
		s.metrics.Reconciles.WithLabelValues(controller, "success").Inc()
		return nil
	case errors.Is(err, errNotLeading):
		s.metrics.Reconciles.WithLabelValues(controller, "standby").Inc()
		log.FromContext(ctx).V(1).Info("dropped: leadership ended during the reconcile")
		return nil
	case errors.Is(err, errFenced):
		s.metrics.Reconciles.WithLabelValues(controller, "fenced").Inc()
		log.FromContext(ctx).V(1).Info("retrying: the write fell outside the lease", "reason", err.Error())
		return err
	case errors.Is(err, errStale):
		s.metrics.Reconciles.WithLabelValues(controller, "conflict").Inc()
		log.FromContext(ctx).V(1).Info("retrying: the cache was behind the apiserver", "reason", err.Error())
		return err
	default:
		s.metrics.Reconciles.WithLabelValues(controller, "error").Inc()
		return err
	}
}

// leading reports whether term is still in force.
func (s *state) leading(term uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return term != 0 && s.term == term
}

// writeCtx is the context a write of term goes out under: it ends when the
// Lease may no longer be this replica's (see fencedLock), so a write is
// either sent and done within the term or not at all. It fails with
// errNotLeading when the term is over, and with errFenced when the term is
// in force but the Lease is overdue for renewal. Every write to the
// apiserver takes one.
func (s *state) writeCtx(ctx context.Context, term uint64) (context.Context, context.CancelFunc, error) {
	if !s.leading(term) {
		return nil, nil, errNotLeading
	}
	if s.lease == nil { // no election: this replica alone leads
		wctx, cancel := context.WithCancel(ctx)
		return wctx, cancel, nil
	}
	until := s.lease.deadline()
	if !s.lease.now().Before(until) {
		s.metrics.FencedWrites.Inc()
		return nil, nil, errFenced
	}
	wctx, cancel := context.WithDeadline(ctx, until)
	return wctx, cancel, nil
}

// fenced turns the error of a write sent under wctx into errFenced when the
// Lease bound cut it short, so that it is retried rather than failed.
func (s *state) fenced(wctx, ctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		s.metrics.FencedWrites.Inc()
		return fmt.Errorf("%w: %w", errFenced, err)
	}
	return err
}

// staleRetry is how soon a reconcile whose write lost to a newer version
// runs again: the informer cache usually catches up within milliseconds.
const staleRetry = 100 * time.Millisecond

// result turns the outcome of lead into what controller-runtime expects. A
// stale write is retried soon and quietly, since it is no failure: the
// error path would log it as one and back off exponentially.
func result(err error) (reconcile.Result, error) {
	if errors.Is(err, errStale) || errors.Is(err, errFenced) {
		return reconcile.Result{RequeueAfter: staleRetry}, nil
	}
	return reconcile.Result{}, err
}
