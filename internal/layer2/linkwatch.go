package layer2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Link is a network interface as the speaker's planner needs it.
type Link struct {
	Name      string
	Index     int
	MAC       net.HardwareAddr
	Up        bool // administratively up AND has carrier (lower up); a veth whose peer is down is not Up
	Broadcast bool
	Loopback  bool
	NoARP     bool // IFF_NOARP
	// MasterKind is the link type of the link's master ("bond", "bridge",
	// "vrf", ...), "" if it has none.
	MasterKind string
	Prefixes   []netip.Prefix // its addresses with their prefix lengths (IPv4, and IPv6 including link-local), sorted
}

func (l Link) equal(o Link) bool {
	return l.Name == o.Name && l.Index == o.Index && bytes.Equal(l.MAC, o.MAC) &&
		l.Up == o.Up && l.Broadcast == o.Broadcast && l.Loopback == o.Loopback &&
		l.NoARP == o.NoARP && l.MasterKind == o.MasterKind && slices.Equal(l.Prefixes, o.Prefixes)
}

// Re-subscription backoff: doubling from the minimum to the maximum, and
// back to the minimum once a subscription has lasted stableAfter.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 30 * time.Second
	stableAfter = time.Minute
)

var errSubscriptionEnded = errors.New("netlink subscription ended")

// linkSource is where links come from: netlink, or a fake in tests.
type linkSource interface {
	// subscribe returns a channel that receives a value after links or
	// addresses change. Values coalesce: one pending value stands for any
	// number of changes. The channel is closed once the subscription has
	// ended, because ctx ended or because it failed, and its goroutines are
	// gone.
	subscribe(ctx context.Context) (<-chan struct{}, error)
	// list returns every link, sorted by name, with its prefixes sorted.
	list() ([]Link, error)
	close()
}

// LinkWatcher reports the node's links from netlink events, never by
// polling.
type LinkWatcher struct {
	log     logr.Logger
	clock   clock.Clock
	open    func(logr.Logger) (linkSource, error)
	changes chan []Link
}

// NewLinkWatcher returns a LinkWatcher. It opens nothing until Run.
func NewLinkWatcher(log logr.Logger) *LinkWatcher {
	return newLinkWatcher(log, clock.RealClock{}, openNetlinkSource)
}

func newLinkWatcher(log logr.Logger, clk clock.Clock, open func(logr.Logger) (linkSource, error)) *LinkWatcher {
	return &LinkWatcher{log: log, clock: clk, open: open, changes: make(chan []Link, 1)}
}

// Changes delivers snapshots: all links, sorted by name. It has a buffer of
// one and the newest snapshot replaces one not yet received, so a slow
// reader skips to the present. Snapshots are never modified after they are
// sent.
func (w *LinkWatcher) Changes() <-chan []Link { return w.changes }

// Run watches the network namespace of the thread that calls it until ctx
// ends, and returns nil then. It subscribes to link and address updates,
// then sends a snapshot at once and after each batch of changes that alters
// it. When the subscription or a listing fails, it subscribes and lists
// again after a backoff. It returns an error only if it cannot start.
func (w *LinkWatcher) Run(ctx context.Context) error {
	src, err := w.open(w.log)
	if err != nil {
		return fmt.Errorf("watch links: %w", err)
	}
	defer src.close()
	p := publisher{out: w.changes}
	delay := minBackoff
	for {
		started := w.clock.Now()
		err := w.watch(ctx, src, &p)
		if ctx.Err() != nil {
			return nil
		}
		if w.clock.Since(started) >= stableAfter {
			delay = minBackoff
		}
		w.log.Error(err, "Watching links failed; subscribing again", "after", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-w.clock.After(delay):
		}
		delay = min(2*delay, maxBackoff)
	}
}

// watch subscribes, lists, and lists again after each batch of events until
// ctx ends (nil) or the subscription or a listing fails. It subscribes
// before it lists, so that a change during the listing also shows as an
// event and nothing is missed.
func (w *LinkWatcher) watch(ctx context.Context, src linkSource, p *publisher) error {
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := src.subscribe(subCtx)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer func() {
		cancel()
		for range events {
		}
	}()
	for {
		links, err := src.list()
		if err != nil {
			return fmt.Errorf("list links: %w", err)
		}
		p.publish(links)
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				return errSubscriptionEnded
			}
		}
	}
}

// publisher sends snapshots that differ from the last one sent, newest
// first.
type publisher struct {
	out  chan []Link
	last []Link
	sent bool
}

func (p *publisher) publish(links []Link) {
	if p.sent && slices.EqualFunc(links, p.last, Link.equal) {
		return
	}
	p.last, p.sent = links, true
	for {
		select {
		case p.out <- links:
			return
		default:
		}
		// Full: drop the stale snapshot. Only this goroutine sends, so
		// the next attempt succeeds unless a reader emptied it first,
		// and then it succeeds too.
		select {
		case <-p.out:
		default:
		}
	}
}
