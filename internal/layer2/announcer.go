package layer2

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Burst defaults; the package doc says why.
const (
	DefaultBurstCount    = 3
	DefaultBurstInterval = 250 * time.Millisecond
)

// Options configure an Announcer.
type Options struct {
	Log     logr.Logger
	Metrics *Metrics         // nil: unregistered collectors
	Clock   clock.WithTicker // nil: the real clock
	// A takeover sends BurstCount rounds of gratuitous packets, BurstInterval
	// apart; the first round goes out at once. Zero or less means the
	// defaults, DefaultBurstCount and DefaultBurstInterval.
	BurstCount    int
	BurstInterval time.Duration
}

type runState uint8

const (
	idle runState = iota
	running
	stopped
)

// Announcer answers ARP and NDP for a declared set of (IP, interface)
// pairs and sends gratuitous announcements. Set, Announce and Applied are
// meant for the shell's one loop; they are safe to call concurrently, but
// gain nothing from it.
type Announcer struct {
	log           logr.Logger
	metrics       *Metrics
	clock         clock.WithTicker
	burstCount    int
	burstInterval time.Duration
	net           network

	// wake tells the burst loop that bursts changed.
	wake chan struct{}
	// readers counts reader goroutines, so that Run returns after them.
	readers sync.WaitGroup

	mu        sync.Mutex
	state     runState
	listeners map[key]*listener
	bursts    map[burstKey]*burst
}

// New returns an Announcer that answers for nothing. It starts no goroutine
// and opens no socket.
func New(o Options) *Announcer { return newAnnouncer(o, hostNetwork{}) }

func newAnnouncer(o Options, n network) *Announcer {
	a := &Announcer{
		log:           o.Log,
		metrics:       o.Metrics,
		clock:         o.Clock,
		burstCount:    o.BurstCount,
		burstInterval: o.BurstInterval,
		net:           n,
		wake:          make(chan struct{}, 1),
		listeners:     map[key]*listener{},
		bursts:        map[burstKey]*burst{},
	}
	if a.metrics == nil {
		a.metrics = NewMetrics()
	}
	if a.clock == nil {
		a.clock = clock.RealClock{}
	}
	if a.burstCount <= 0 {
		a.burstCount = DefaultBurstCount
	}
	if a.burstInterval <= 0 {
		a.burstInterval = DefaultBurstInterval
	}
	return a
}

// Run answers requests and sends the later rounds of bursts until ctx
// ends, then closes every socket and returns nil once every goroutine it
// started has ended. It may be called once; a second call returns
// ErrStopped.
func (a *Announcer) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.state != idle {
		a.mu.Unlock()
		return fmt.Errorf("run the announcer twice: %w", ErrStopped)
	}
	a.state = running
	for _, l := range a.listeners {
		a.startLocked(l)
	}
	a.mu.Unlock()

	a.burstLoop(ctx)

	a.mu.Lock()
	a.state = stopped
	for k, l := range a.listeners {
		a.closeLocked(k, l)
	}
	a.metrics.keepIPs(nil)
	clear(a.bursts)
	a.mu.Unlock()
	a.readers.Wait()
	return nil
}

// Set makes the Announcer answer for exactly the desired pairs: ARP for
// IPv4 and NDP for IPv6, each only on its interface. It opens listeners for
// interfaces that gain their first pair and closes those that lose their
// last, joins and leaves solicited-node groups, and sends a gratuitous
// burst for each pair that was not in effect before (its first round before
// Set returns).
//
// Set opens its sockets whether or not Run has started, so what it returns
// and what Applied reports do not depend on Run; before Run, requests wait
// in the sockets and the later rounds of bursts wait for Run to start. After
// Run has returned, Set returns ErrStopped.
//
// Set does not block on the network: it opens sockets, asks the kernel to
// join groups and writes the first round of packets. On partial failure it
// returns an error naming each failed pair or interface, Applied reports
// exactly what is in effect, and the next Set tries again whatever is
// missing: it also reopens a listener whose socket failed.
//
// A listener answers for the link it opened on, not for a name: when an
// interface's name has come to stand for another index (the link was
// re-created) or another MAC (a bond failed over with fail_over_mac=active),
// Set replaces its listener and sends a burst for each of its pairs naming
// the MAC the link has now. The shell calls Set after every link change, so
// a failover is repaired at the next Set.
func (a *Announcer) Set(desired []Announcement) error {
	want, errs := byListener(desired)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == stopped {
		return ErrStopped
	}
	if err := a.closeMovedLocked(want); err != nil {
		errs = append(errs, err)
	}
	before := a.appliedLocked()
	for k, l := range a.listeners {
		_, wanted := want[k]
		if !wanted || l.failed.Load() {
			a.closeLocked(k, l)
		}
		if !wanted {
			a.metrics.forget(k)
		}
	}
	for _, k := range sortedKeys(want) {
		l := a.listeners[k]
		if l == nil {
			s, err := a.net.open(k)
			if err != nil {
				errs = append(errs, fmt.Errorf("answer for %v: open %s: %w", want[k].sorted(), k, err))
				continue
			}
			l = newListener(k, s, a.log, a.metrics)
			a.listeners[k] = l
			a.startLocked(l)
		}
		errs = append(errs, l.update(want[k])...)
		if len(l.ownedSet()) == 0 {
			a.closeLocked(k, l)
			a.metrics.forget(k)
		}
	}
	applied := a.appliedLocked()
	a.dropBurstsLocked(applied)
	a.metrics.keepIPs(applied)
	a.startBurstsLocked(before)
	return errors.Join(errs...)
}

// closeMovedLocked closes the listeners for want whose interface name now
// stands for another link or for none, so that Set counts their pairs as
// not in effect: it opens listeners on the link as it is now and starts a
// burst for each pair. Their metric series stay, since the same interface
// and protocol go on answering. When the links cannot be read, every
// listener stays: a failover then waits for the next Set.
func (a *Announcer) closeMovedLocked(want map[key]addrSet) error {
	var names []string
	for k := range want {
		if a.listeners[k] != nil {
			names = append(names, k.iface)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	names = slices.Compact(names)
	now, err := a.net.links(names)
	if err != nil {
		return fmt.Errorf("check interfaces %v: %w", names, err)
	}
	for _, k := range sortedKeys(want) {
		l := a.listeners[k]
		if l == nil {
			continue
		}
		if cur, found := now[k.iface]; !found || !cur.same(l.link) {
			l.log.Info("Interface changed; reopening the listener", "newIndex", cur.index, "newMAC", cur.mac.String())
			a.closeLocked(k, l)
		}
	}
	return nil
}

// Applied returns the pairs in effect, sorted by Announcement.Compare. A
// pair whose listener failed since the last Set is not in effect.
func (a *Announcer) Applied() []Announcement {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appliedLocked()
}

func (a *Announcer) appliedLocked() []Announcement {
	var out []Announcement
	for k, l := range a.listeners {
		if l.failed.Load() {
			continue
		}
		for ip := range l.ownedSet() {
			out = append(out, Announcement{IP: ip, Interface: k.iface})
		}
	}
	slices.SortFunc(out, Announcement.Compare)
	return out
}

// liveLocked returns the listener for k if it is open and has not failed.
func (a *Announcer) liveLocked(k key) *listener {
	if l := a.listeners[k]; l != nil && !l.failed.Load() {
		return l
	}
	return nil
}

// startLocked starts l's reader if Run is running; Run starts the readers
// of listeners opened before it.
func (a *Announcer) startLocked(l *listener) {
	if a.state != running {
		return
	}
	a.readers.Add(1)
	go func() {
		defer a.readers.Done()
		l.serve()
	}()
}

// closeLocked closes l and forgets it. Its reader ends on its own.
func (a *Announcer) closeLocked(k key, l *listener) {
	if err := l.close(); err != nil {
		a.log.Error(err, "Closing a listener")
	}
	delete(a.listeners, k)
}

// sortedKeys returns m's keys in key order, so that sockets open and
// bursts start in the same order every time.
func sortedKeys[V any](m map[key]V) []key {
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y key) int { return x.compare(y) })
	return keys
}

func (k key) compare(o key) int {
	if k.iface != o.iface {
		if k.iface < o.iface {
			return -1
		}
		return 1
	}
	return int(k.proto) - int(o.proto)
}
