package reconcile

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// errFenced marks a write that was not sent, or not finished, while this
// replica's Lease was surely its own. The reconcile is retried: by then the
// Lease is renewed and the write goes out, or the term has ended and the
// work is dropped for the next leader.
var errFenced = errors.New("the lease may have passed to another replica")

// fencedLock is the leader-election lock, and remembers until when the
// Lease is surely this replica's, so that writes can be bounded by it.
//
// A standby takes over only LeaseDuration after it saw the Lease change, and
// it can see a renewal only after the renewal was sent. So a renewal sent at
// t holds the Lease until t + LeaseDuration at the earliest, whatever happens
// to this process afterwards. Writes are bounded by t + window, window =
// RenewDeadline, which leaves LeaseDuration - RenewDeadline for a write to
// reach the apiserver. Without the bound a leader that was paused (a stopped
// process, a VM migration, a long GC pause) resumes believing it leads, and
// the writes it had computed land on top of the new leader's.
type fencedLock struct {
	resourcelock.Interface
	window time.Duration
	now    func() time.Time // monotonic: time.Now

	mu    sync.Mutex
	until time.Time
	// seen is the holder of the Lease as last read.
	seen string
}

func (l *fencedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r, raw, err := l.Interface.Get(ctx)
	if err == nil {
		l.mu.Lock()
		l.seen = r.HolderIdentity
		l.mu.Unlock()
	}
	return r, raw, err
}

func (l *fencedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	return l.held(r, func() error { return l.Interface.Create(ctx, r) })
}

func (l *fencedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if r.HolderIdentity == "" && !l.holds() {
		// client-go releases a Lease it has lost: it reads the Lease, then
		// asks whether it leads from the record it saw before, not from
		// the one just read, and writes. A leader that resumed after a
		// pause would so hand the new leader's Lease to the first taker,
		// while the new leader still writes. The Lease is not ours: there
		// is nothing to release.
		return nil
	}
	return l.held(r, func() error { return l.Interface.Update(ctx, r) })
}

// holds reports whether the Lease, as last read, names this replica.
func (l *fencedLock) holds() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen == l.Identity()
}

// held runs a write of the Lease record and, when it made this replica the
// holder, extends the bound from the moment the write was sent.
func (l *fencedLock) held(r resourcelock.LeaderElectionRecord, write func() error) error {
	sent := l.now()
	if err := write(); err != nil {
		return err
	}
	if r.HolderIdentity != l.Identity() {
		return nil // a release
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = r.HolderIdentity
	if until := sent.Add(l.window); until.After(l.until) {
		l.until = until
	}
	return nil
}

// deadline is until when a write may still be sent and finished.
func (l *fencedLock) deadline() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}
