package reconcile

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// recordLock stands in for the Lease: each write succeeds or fails as told.
type recordLock struct {
	resourcelock.Interface // unused methods panic
	fail                   error
	holder                 string // what Get reads
	updates                int
}

func (l *recordLock) Create(context.Context, resourcelock.LeaderElectionRecord) error { return l.fail }
func (l *recordLock) Identity() string                                                { return "a" }

func (l *recordLock) Update(context.Context, resourcelock.LeaderElectionRecord) error {
	l.updates++
	return l.fail
}

func (l *recordLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	return &resourcelock.LeaderElectionRecord{HolderIdentity: l.holder}, nil, l.fail
}

// client-go releases a lost Lease on the word of the record it saw before;
// the lock must not let it clear the new holder's.
func TestALostLeaseIsNotReleased(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		holder  string
		release bool
	}{{"a", true}, {"b", false}, {"", false}} {
		inner := &recordLock{holder: c.holder}
		lock := &fencedLock{Interface: inner, window: time.Second, now: time.Now}
		if err := lock.Create(ctx, resourcelock.LeaderElectionRecord{HolderIdentity: "a"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := lock.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if err := lock.Update(ctx, resourcelock.LeaderElectionRecord{}); err != nil {
			t.Fatal(err)
		}
		if released := inner.updates == 1; released != c.release {
			t.Errorf("Lease read as held by %q: released %v, want %v", c.holder, released, c.release)
		}
	}
}

func TestWritesAreBoundedByTheLastRenewalSent(t *testing.T) {
	st, term := leadingState(t)
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	now := t0
	inner := &recordLock{}
	lock := &fencedLock{Interface: inner, window: 2 * time.Second, now: func() time.Time { return now }}
	st.lease = lock
	mine := resourcelock.LeaderElectionRecord{HolderIdentity: "a"}

	// Not yet renewed: nothing may be written.
	if _, _, err := st.writeCtx(context.Background(), term); !errors.Is(err, errFenced) {
		t.Fatalf("write before the Lease is held: %v, want errFenced", err)
	}
	if err := lock.Create(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		renew   string // "", "ok", "fail" or "release"
		want    error  // of writeCtx
		left    time.Duration
	}{
		{"just acquired", 0, "", nil, 2 * time.Second},
		{"a renewal extends from when it was sent", time.Second, "ok", nil, 2 * time.Second},
		{"a failed renewal does not", 1500 * time.Millisecond, "fail", nil, 500 * time.Millisecond},
		{"releasing the Lease does not", 0, "release", nil, 500 * time.Millisecond},
		{"paused past the bound", 600 * time.Millisecond, "", errFenced, 0},
		{"resumed and renewed", 10 * time.Second, "ok", nil, 2 * time.Second},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		switch s.renew {
		case "ok":
			inner.fail = nil
			if err := lock.Update(context.Background(), mine); err != nil {
				t.Fatal(err)
			}
		case "fail":
			inner.fail = errors.New("apiserver unreachable")
			if err := lock.Update(context.Background(), mine); err == nil {
				t.Fatal("a failing renewal succeeded")
			}
		case "release":
			inner.fail = nil
			if err := lock.Update(context.Background(), resourcelock.LeaderElectionRecord{}); err != nil {
				t.Fatal(err)
			}
		}
		wctx, cancel, err := st.writeCtx(context.Background(), term)
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: writeCtx = %v, want %v", s.name, err, s.want)
		}
		if err != nil {
			continue
		}
		deadline, ok := wctx.Deadline()
		cancel()
		if !ok || deadline.Sub(now) != s.left {
			t.Errorf("%s: write deadline in %v (set %v), want in %v", s.name, deadline.Sub(now), ok, s.left)
		}
	}
	if _, _, err := st.writeCtx(context.Background(), term+1); !errors.Is(err, errNotLeading) {
		t.Errorf("write of another term: %v, want errNotLeading", err)
	}
}

func TestAWriteCutShortByTheBoundIsRetried(t *testing.T) {
	st, _ := leadingState(t)
	ctx := context.Background()
	wctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	cut := st.fenced(wctx, ctx, context.DeadlineExceeded)
	if !errors.Is(cut, errFenced) {
		t.Errorf("a write cut by the Lease bound: %v, want errFenced", cut)
	}
	if res, err := result(cut); err != nil || res.RequeueAfter == 0 {
		t.Errorf("a fenced write gives %v, %v: want a quiet retry", res, err)
	}
	// A stop of the whole reconcile is no fence.
	stopped, stop := context.WithCancel(ctx)
	stop()
	if err := st.fenced(stopped, stopped, context.Canceled); errors.Is(err, errFenced) {
		t.Errorf("a cancelled reconcile counted as fenced")
	}
}
