package layer2

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	testingclock "k8s.io/utils/clock/testing"
)

func TestSnapshot(t *testing.T) {
	attrs := func(name string, index int, flags uint32, mac string) netlink.LinkAttrs {
		return netlink.LinkAttrs{Name: name, Index: index, RawFlags: flags, HardwareAddr: mustMAC(mac)}
	}
	addr := func(index int, s string) netlink.Addr {
		p := netip.MustParsePrefix(s)
		return netlink.Addr{LinkIndex: index, IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	}
	links := []netlink.Link{
		&netlink.Veth{LinkAttrs: attrs("veth0", 3, unix.IFF_UP|unix.IFF_BROADCAST, "02:00:00:00:00:03")},
		&netlink.Device{LinkAttrs: attrs("lo", 1, unix.IFF_UP|unix.IFF_LOWER_UP|unix.IFF_LOOPBACK, "00:00:00:00:00:00")},
		&netlink.Device{LinkAttrs: attrs("eth0", 2, unix.IFF_UP|unix.IFF_LOWER_UP|unix.IFF_BROADCAST, "02:00:00:00:00:02")},
		&netlink.Dummy{LinkAttrs: attrs("dummy0", 4, unix.IFF_BROADCAST|unix.IFF_LOWER_UP, "02:00:00:00:00:04")},
	}
	addrs := []netlink.Addr{
		addr(2, "fe80::2/64"), addr(2, "2001:db8::2/64"), addr(2, "198.51.100.2/24"), addr(2, "198.51.100.3/32"),
		addr(1, "127.0.0.1/8"), addr(3, "203.0.113.3/24"), {LinkIndex: 2},
	}
	got := snapshot(links, addrs)
	want := []Link{
		{Name: "dummy0", Index: 4, MAC: mustMAC("02:00:00:00:00:04"), Broadcast: true},
		{Name: "eth0", Index: 2, MAC: mustMAC("02:00:00:00:00:02"), Up: true, Broadcast: true, Prefixes: []netip.Prefix{
			netip.MustParsePrefix("198.51.100.2/24"), netip.MustParsePrefix("198.51.100.3/32"),
			netip.MustParsePrefix("2001:db8::2/64"), netip.MustParsePrefix("fe80::2/64"),
		}},
		{Name: "lo", Index: 1, MAC: mustMAC("00:00:00:00:00:00"), Up: true, Loopback: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		// Administratively up without carrier (its peer is down): not Up.
		{Name: "veth0", Index: 3, MAC: mustMAC("02:00:00:00:00:03"), Broadcast: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.3/24")}},
	}
	if !slices.EqualFunc(got, want, Link.equal) {
		t.Fatalf("snapshot:\n got %+v\nwant %+v", got, want)
	}
}

// fakeSource is a linkSource the test drives: it changes the links, sends
// events and breaks subscriptions.
type fakeSource struct {
	mu         sync.Mutex
	links      []Link
	listErr    error
	lists      int
	subscribes int
	kick       chan struct{} // to the current subscription
	kill       chan struct{} // closes the current subscription
	closed     bool
}

func (s *fakeSource) subscribe(ctx context.Context) (<-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subscribes++
	kick, kill, out := make(chan struct{}, 1), make(chan struct{}), make(chan struct{}, 1)
	s.kick, s.kill = kick, kill
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case <-kill:
				return
			case <-kick:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}

func (s *fakeSource) list() ([]Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.listErr != nil {
		return nil, s.listErr
	}
	return slices.Clone(s.links), nil
}

func (s *fakeSource) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
}

// change sets the links (nil: unchanged) and sends an event.
func (s *fakeSource) change(links []Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if links != nil {
		s.links = links
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *fakeSource) breakSubscription() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.kill)
}

func (s *fakeSource) counts() (lists, subscribes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists, s.subscribes
}

type watchHarness struct {
	w     *LinkWatcher
	src   *fakeSource
	clock *testingclock.FakeClock
	stop  func()
}

func startWatcher(t *testing.T, links []Link) watchHarness {
	t.Helper()
	src := &fakeSource{links: links}
	fc := testingclock.NewFakeClock(time.Unix(1_700_000_000, 0))
	w := newLinkWatcher(logr.Discard(), fc, func(logr.Logger) (linkSource, error) { return src, nil })
	stop := runInBackground(t, w.Run)
	return watchHarness{w: w, src: src, clock: fc, stop: stop}
}

func (h watchHarness) next(t *testing.T) []Link {
	t.Helper()
	select {
	case l := <-h.w.Changes():
		return l
	case <-time.After(waitFor):
		t.Fatal("no snapshot")
		return nil
	}
}

func (h watchHarness) waitLists(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, "the source is listed again", func() bool { l, _ := h.src.counts(); return l >= n })
}

func (h watchHarness) nothingPending(t *testing.T) {
	t.Helper()
	select {
	case l := <-h.w.Changes():
		t.Fatalf("unexpected snapshot %+v", l)
	default:
	}
}

var (
	eth0 = Link{Name: "eth0", Index: 2, MAC: ourMAC, Up: true, Broadcast: true}
	eth1 = Link{Name: "eth1", Index: 3, MAC: otherMAC, Up: true, Broadcast: true}
)

func TestLinkWatcherSnapshots(t *testing.T) {
	h := startWatcher(t, []Link{eth0})
	if got := h.next(t); !slices.EqualFunc(got, []Link{eth0}, Link.equal) {
		t.Fatalf("first snapshot %+v, want eth0", got)
	}
	down := eth0
	down.Up = false
	h.src.change([]Link{down})
	if got := h.next(t); !slices.EqualFunc(got, []Link{down}, Link.equal) {
		t.Fatalf("after the change %+v, want eth0 down", got)
	}

	// Events that change nothing send nothing. The second listing proves
	// the first one's publish is done.
	lists, _ := h.src.counts()
	h.src.change(nil)
	h.waitLists(t, lists+1)
	h.src.change(nil)
	h.waitLists(t, lists+2)
	h.nothingPending(t)
}

// TestLinkWatcherNewestWins: a reader that falls behind gets the latest
// snapshot, not a queue of old ones.
func TestLinkWatcherNewestWins(t *testing.T) {
	h := startWatcher(t, nil)
	h.next(t)
	lists, _ := h.src.counts()
	for i, links := range [][]Link{{eth0}, {eth0, eth1}, {eth1}} {
		h.src.change(links)
		h.waitLists(t, lists+i+1)
	}
	// waitLists proves the last listing, not the publish after it; Run
	// returns only after that publish.
	h.stop()
	if got := h.next(t); !slices.EqualFunc(got, []Link{eth1}, Link.equal) {
		t.Fatalf("snapshot %+v, want the newest, eth1 alone", got)
	}
	h.nothingPending(t)
	if !h.src.closed {
		t.Fatal("Run returned without closing its source")
	}
}

// TestLinkWatcherResubscribes: a broken subscription or a failed listing
// leads to a new subscription and listing after a doubling backoff.
func TestLinkWatcherResubscribes(t *testing.T) {
	h := startWatcher(t, []Link{eth0})
	h.next(t)

	h.src.mu.Lock()
	h.src.links = []Link{eth0, eth1} // changed while nobody listened
	h.src.mu.Unlock()
	h.src.breakSubscription()
	waitUntil(t, "the watcher backs off", h.clock.HasWaiters)
	h.clock.Step(minBackoff)
	if got := h.next(t); !slices.EqualFunc(got, []Link{eth0, eth1}, Link.equal) {
		t.Fatalf("after re-subscribing %+v, want eth0 and eth1", got)
	}

	// Listing fails now: the next wait is twice as long.
	h.src.mu.Lock()
	h.src.listErr = errInjected
	h.src.mu.Unlock()
	h.src.change(nil)
	waitUntil(t, "the watcher backs off", h.clock.HasWaiters)
	_, subs := h.src.counts()
	h.clock.Step(minBackoff)
	if !h.clock.HasWaiters() {
		t.Fatal("the second backoff was not longer than the first")
	}
	h.src.mu.Lock()
	h.src.listErr = nil
	h.src.links = []Link{eth1}
	h.src.mu.Unlock()
	h.clock.Step(minBackoff)
	if got := h.next(t); !slices.EqualFunc(got, []Link{eth1}, Link.equal) {
		t.Fatalf("after the list error %+v, want eth1", got)
	}
	if _, n := h.src.counts(); n != subs+1 {
		t.Fatalf("%d subscriptions, want %d", n, subs+1)
	}
}

func TestLinkWatcherOpenError(t *testing.T) {
	w := newLinkWatcher(logr.Discard(), testingclock.NewFakeClock(time.Now()), func(logr.Logger) (linkSource, error) { return nil, errInjected })
	if err := w.Run(context.Background()); !errors.Is(err, errInjected) {
		t.Fatalf("Run = %v, want the open error", err)
	}
}
