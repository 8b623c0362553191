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

	"github.com/mdlayher/ethernet"
	"k8s.io/utils/clock"
)

// burstKey names a pair that has a burst under way.
type burstKey struct {
	key key
	ip  netip.Addr
}

// burst is the rest of a takeover burst: the rounds left and when the next
// is due. Bursts always name our own MAC; a handover is a single round.
type burst struct {
	left int
	due  time.Time
}

// Announce sends one round of gratuitous packets for each entry at once,
// and returns after they were written, so that a caller about to exit knows
// they left. For an entry naming our own MAC (MAC nil or equal to the
// interface's) the rest of the burst follows in the background, replacing
// any burst already under way for that pair, while the pair stays in
// effect; such an entry must name a pair in effect, else it fails with
// ErrNotApplied, because announcing an IP we do not answer for would lure
// clients to a node that ignores them.
//
// An entry naming another MAC is a handover: a single round that points
// clients at the IP's new owner, and the end of any burst of ours for that
// pair. It needs no pair in effect; call it after Set has dropped the pair,
// or this node keeps answering requests for the IP as well. On an interface
// without a listener, Announce opens one for the duration of the call.
//
// Errors name each failed entry; the other entries are still sent.
func (a *Announcer) Announce(g []Gratuitous) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == stopped {
		return ErrStopped
	}
	var errs []error
	for _, e := range g {
		if err := a.announceLocked(e); err != nil {
			errs = append(errs, fmt.Errorf("announce %s: %w", Announcement{IP: e.IP, Interface: e.Interface}, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Announcer) announceLocked(e Gratuitous) error {
	if err := checkPair(e.IP, e.Interface); err != nil {
		return err
	}
	if e.MAC != nil && !isUnicastMAC(e.MAC) {
		return fmt.Errorf("%w: owner %q is not a unicast Ethernet address", ErrInvalidAnnouncement, e.MAC)
	}
	k := key{iface: e.Interface, proto: protocolOf(e.IP)}
	l := a.liveLocked(k)
	if l == nil && e.MAC == nil {
		return ErrNotApplied
	}
	if l == nil {
		s, err := a.net.open(k)
		if err != nil {
			return fmt.Errorf("open %s: %w", k, err)
		}
		l = newListener(k, s, a.log, a.metrics)
		defer func() {
			if err := l.close(); err != nil {
				a.log.Error(err, "Closing a listener opened to announce")
			}
		}()
	}
	bk := burstKey{key: k, ip: e.IP}
	if e.MAC != nil && !bytes.Equal(e.MAC, l.link.mac) {
		delete(a.bursts, bk)
		return a.sendLocked(l, e.IP, e.MAC)
	}
	if !l.ownedSet().has(e.IP) {
		return ErrNotApplied
	}
	err := a.sendLocked(l, e.IP, l.link.mac)
	a.scheduleLocked(bk)
	return err
}

// startBurstsLocked starts a takeover burst for each pair that came into
// effect since before. The pairs are read from the listeners that hold
// them, so each burst starts on the listener it names: a listener whose
// reader fails meanwhile makes the round fail, not the caller crash.
func (a *Announcer) startBurstsLocked(before []Announcement) {
	for _, k := range sortedKeys(a.listeners) {
		l := a.listeners[k]
		if l.failed.Load() {
			continue
		}
		var held []Announcement
		for _, ip := range l.ownedSet().sorted() {
			held = append(held, Announcement{IP: ip, Interface: k.iface})
		}
		for _, p := range newPairs(before, held) {
			a.startBurstLocked(l, p.IP)
		}
	}
}

// startBurstLocked starts a takeover burst for ip, which just came into
// effect on l. A failed first round is logged and counted, not returned:
// the pair is in effect all the same, and clients that missed the packet
// still get answers when they ask; if l failed, the next round finds it
// gone and ends the burst.
func (a *Announcer) startBurstLocked(l *listener, ip netip.Addr) {
	if err := a.sendLocked(l, ip, l.link.mac); err != nil {
		l.log.Error(err, "Sending the first gratuitous round failed", "ip", ip)
	}
	a.scheduleLocked(burstKey{key: l.key, ip: ip})
}

// scheduleLocked queues the rounds after the first.
func (a *Announcer) scheduleLocked(bk burstKey) {
	if a.burstCount <= 1 {
		delete(a.bursts, bk)
		return
	}
	a.bursts[bk] = &burst{left: a.burstCount - 1, due: a.clock.Now().Add(a.burstInterval)}
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// dropBurstsLocked ends the bursts of pairs no longer in effect.
func (a *Announcer) dropBurstsLocked(applied []Announcement) {
	for bk := range a.bursts {
		p := Announcement{IP: bk.ip, Interface: bk.key.iface}
		if _, found := slices.BinarySearchFunc(applied, p, Announcement.Compare); !found {
			delete(a.bursts, bk)
		}
	}
}

// sendLocked sends one gratuitous packet for ip on l's interface naming
// owner.
func (a *Announcer) sendLocked(l *listener, ip netip.Addr, owner net.HardwareAddr) error {
	var frame []byte
	var to net.HardwareAddr
	var err error
	switch l.key.proto {
	case protoARP:
		frame, err = gratuitousARP(l.link.mac, owner, ip)
		to = ethernet.Broadcast
	case protoNDP:
		frame, err = unsolicitedNA(l.link.mac, owner, ip)
		to = multicastMAC(allNodes)
	}
	if err == nil {
		err = l.write(frame, to)
	}
	if err != nil {
		l.count.errors.Inc()
		return fmt.Errorf("send gratuitous %s: %w", l.key.proto, err)
	}
	l.count.gratuitous.Inc()
	if bytes.Equal(owner, l.link.mac) {
		// MetalLB counts the packets for IPs this node owns; a handover
		// names another node's MAC.
		l.count.byIP.Gratuitous.WithLabelValues(ip.String()).Inc()
	}
	l.log.V(1).Info("Sent gratuitous announcement", "ip", ip, "owner", owner.String())
	return nil
}

// burstLoop sends the rounds that come due until ctx ends. It is Run's
// only goroutine besides the readers, and sleeps on the injected clock.
func (a *Announcer) burstLoop(ctx context.Context) {
	for {
		a.mu.Lock()
		next, pending := a.sendDueLocked()
		a.mu.Unlock()
		var timer clock.Timer
		var fire <-chan time.Time
		if pending {
			d := next.Sub(a.clock.Now())
			if d <= 0 {
				continue
			}
			timer = a.clock.NewTimer(d)
			fire = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-a.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// sendDueLocked sends every round that is due and returns when the next is.
// The next round is due an interval after this one was sent, not after it
// was due, so a late loop never sends two rounds back to back.
func (a *Announcer) sendDueLocked() (next time.Time, pending bool) {
	now := a.clock.Now()
	for bk, b := range a.bursts {
		if b.due.After(now) {
			continue
		}
		l := a.liveLocked(bk.key)
		if l == nil || !l.ownedSet().has(bk.ip) {
			delete(a.bursts, bk)
			continue
		}
		if err := a.sendLocked(l, bk.ip, l.link.mac); err != nil {
			l.log.Error(err, "Sending a gratuitous round failed", "ip", bk.ip)
		}
		if b.left--; b.left == 0 {
			delete(a.bursts, bk)
			continue
		}
		b.due = now.Add(a.burstInterval)
	}
	for _, b := range a.bursts {
		if !pending || b.due.Before(next) {
			next, pending = b.due, true
		}
	}
	return next, pending
}
