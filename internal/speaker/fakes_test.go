package speaker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/liveness"
)

// fakeAnnouncer records what the speaker asks of the Layer 2 announcer.
type fakeAnnouncer struct {
	mu sync.Mutex
	// now, when set, stamps the first Set that claims something.
	now       func() time.Time
	claimedAt time.Time
	applied   []layer2.Announcement
	announced [][]layer2.Gratuitous
	calls     []string // "set", "announce", in order
}

func (f *fakeAnnouncer) Run(ctx context.Context) error { <-ctx.Done(); return nil }

func (f *fakeAnnouncer) Set(d []layer2.Announcement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = slices.Clone(d)
	f.calls = append(f.calls, "set")
	if f.now != nil && len(d) > 0 && f.claimedAt.IsZero() {
		f.claimedAt = f.now()
	}
	return nil
}

// claimed returns when the speaker first claimed, by f.now, and forgets it.
func (f *fakeAnnouncer) claimed() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.claimedAt
	f.claimedAt = time.Time{}
	return at
}

func (f *fakeAnnouncer) Applied() []layer2.Announcement {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

func (f *fakeAnnouncer) Announce(g []layer2.Gratuitous) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.announced = append(f.announced, slices.Clone(g))
	f.calls = append(f.calls, "announce")
	return nil
}

func (f *fakeAnnouncer) history() ([][]layer2.Gratuitous, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.announced), slices.Clone(f.calls)
}

// fakeMembership stands in for memberlist: the test says who is alive.
type fakeMembership struct {
	mu      sync.Mutex
	members []liveness.Member
	desired liveness.Desired
	left    bool
	health  int
	changes chan struct{}
}

func newFakeMembership() *fakeMembership { return &fakeMembership{changes: make(chan struct{}, 1)} }

func (f *fakeMembership) Run(ctx context.Context) error { <-ctx.Done(); return nil }

func (f *fakeMembership) Set(d liveness.Desired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = d
	return nil
}

func (f *fakeMembership) Changes() <-chan struct{} { return f.changes }

func (f *fakeMembership) Members() []liveness.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members)
}

func (f *fakeMembership) HealthScore() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health
}

func (f *fakeMembership) setHealth(score int) {
	f.mu.Lock()
	f.health = score
	f.mu.Unlock()
	select {
	case f.changes <- struct{}{}:
	default:
	}
}

func (f *fakeMembership) Leave(time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left = true
	return nil
}

func (f *fakeMembership) set(members ...liveness.Member) {
	f.mu.Lock()
	f.members = members
	f.mu.Unlock()
	select {
	case f.changes <- struct{}{}:
	default:
	}
}

func (f *fakeMembership) state() (liveness.Desired, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desired, f.left
}

// fakeLinks reports a fixed set of links.
type fakeLinks struct{ ch chan []layer2.Link }

func newFakeLinks(links []layer2.Link) *fakeLinks {
	f := &fakeLinks{ch: make(chan []layer2.Link, 1)}
	f.ch <- links
	return f
}

func (f *fakeLinks) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (f *fakeLinks) Changes() <-chan []layer2.Link { return f.ch }

// fakeRouter records the BGP state the speaker asks for.
type fakeRouter struct {
	mu      sync.Mutex
	desired []bgp.Desired
}

func (f *fakeRouter) Run(ctx context.Context) error { <-ctx.Done(); return nil }

func (f *fakeRouter) Set(_ context.Context, d bgp.Desired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.desired = append(f.desired, d)
	return nil
}

func (f *fakeRouter) Status() []bgp.PeerStatus { return nil }

// first is the first state Set was given.
func (f *fakeRouter) first() (bgp.Desired, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.desired) == 0 {
		return bgp.Desired{}, false
	}
	return f.desired[0], true
}

func (f *fakeRouter) last() (bgp.Desired, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.desired) == 0 {
		return bgp.Desired{}, false
	}
	return f.desired[len(f.desired)-1], true
}
