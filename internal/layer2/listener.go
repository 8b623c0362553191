package layer2

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/mdlayher/packet"
)

// link is what a listener knows of its interface, read when it opens: the
// identity a name stands for. A link deleted and re-created under the same
// name has another index; a bond whose active slave changes with
// fail_over_mac=active keeps its index and takes another MAC. A listener
// answers only for the link it opened on.
type link struct {
	index int
	mac   net.HardwareAddr
}

// same reports whether l and o are one link with one MAC.
func (l link) same(o link) bool { return l.index == o.index && bytes.Equal(l.mac, o.mac) }

// groupConn joins and leaves IPv6 multicast groups on one interface.
// *ndp.Conn is one.
type groupConn interface {
	JoinGroup(group netip.Addr) error
	LeaveGroup(group netip.Addr) error
	Close() error
}

// sockets are what network.open returns for one listener.
type sockets struct {
	link link
	// frames reads and writes whole Ethernet frames (an AF_PACKET socket).
	frames net.PacketConn
	// groups holds solicited-node memberships (NDP only).
	groups groupConn
}

// network is the Announcer's way to the node's links. New uses hostNetwork;
// tests pass fakes.
type network interface {
	// open opens the sockets for a listener on the interface k names.
	open(k key) (sockets, error)
	// links returns what each of names stands for now; a name missing
	// from the result names no interface.
	links(names []string) (map[string]link, error)
}

// readBufferSize holds any ARP request or Neighbor Solicitation; a longer
// frame is truncated, fails to parse and is ignored.
const readBufferSize = 2048

// listener answers one protocol on one interface.
type listener struct {
	key key
	sockets
	log   logr.Logger
	count linkCounters

	// owned is what the reader answers for. Set publishes a new set and
	// never modifies a published one, so the reader needs no lock.
	owned atomic.Pointer[addrSet]
	// joined is the groups the kernel holds for us. Only Set touches it,
	// under the Announcer's mutex.
	joined addrSet

	failed    atomic.Bool // the reader hit an error and closed the sockets
	closing   atomic.Bool // close was called: read errors are expected
	closeOnce sync.Once
	closeErr  error
}

func newListener(k key, s sockets, log logr.Logger, m *Metrics) *listener {
	l := &listener{
		key:     k,
		sockets: s,
		log:     log.WithValues("interface", k.iface, "protocol", k.proto.String(), "index", s.link.index, "mac", s.link.mac.String()),
		count:   m.forKey(k),
		joined:  addrSet{},
	}
	l.owned.Store(&addrSet{})
	return l
}

func (l *listener) ownedSet() addrSet { return *l.owned.Load() }

// update makes the listener answer for exactly want, less the addresses
// whose solicited-node group could not be joined, and returns an error for
// each group it failed to join or leave. Groups are joined before the new
// set is published and left after, so no owned address is ever missing its
// group.
func (l *listener) update(want addrSet) []error {
	owned := maps.Clone(want)
	var errs []error
	if l.groups != nil {
		join, _ := groupChanges(l.joined, owned)
		members := groupsFor(owned)
		for _, g := range join {
			if err := l.groups.JoinGroup(g); err != nil {
				errs = append(errs, fmt.Errorf("join group %s for %v on %s: %w", g, members[g], l.key.iface, err))
				for _, ip := range members[g] {
					delete(owned, ip)
				}
				continue
			}
			l.joined[g] = struct{}{}
		}
	}
	l.owned.Store(&owned)
	if l.groups != nil {
		_, leave := groupChanges(l.joined, owned)
		for _, g := range leave {
			if err := l.groups.LeaveGroup(g); err != nil {
				errs = append(errs, fmt.Errorf("leave group %s on %s: %w", g, l.key.iface, err))
				continue
			}
			delete(l.joined, g)
		}
	}
	return errs
}

// serve answers requests until the sockets are closed. A read error closes
// them and marks the listener failed, so that Applied stops reporting its
// pairs and the next Set opens a new one; it never retries in a loop.
func (l *listener) serve() {
	buf := make([]byte, readBufferSize)
	for {
		n, _, err := l.frames.ReadFrom(buf)
		if err != nil {
			if l.closing.Load() {
				return
			}
			l.count.errors.Inc()
			l.log.Error(err, "Read failed; closing the listener until the next Set")
			l.failed.Store(true)
			if cerr := l.close(); cerr != nil {
				l.log.Error(cerr, "Closing the failed listener")
			}
			return
		}
		l.handle(buf[:n])
	}
}

// handle answers one frame.
func (l *listener) handle(frame []byte) {
	var r response
	switch l.key.proto {
	case protoARP:
		r = respondARP(frame, l.link.mac, l.ownedSet())
	case protoNDP:
		r = respondNDP(frame, l.link.mac, l.ownedSet())
	}
	switch r.verdict {
	case ignore:
		return
	case foreign:
		l.count.ignored.Inc()
		return
	}
	l.count.requests.Inc()
	ip := r.target.String()
	l.count.byIP.Requests.WithLabelValues(ip).Inc()
	if err := l.write(r.frame, r.to); err != nil {
		l.count.errors.Inc()
		l.log.Error(err, "Sending a reply failed", "ip", r.target, "to", r.to.String())
		return
	}
	l.count.replies.Inc()
	l.count.byIP.Replies.WithLabelValues(ip).Inc()
	l.log.V(2).Info("Answered", "ip", r.target, "to", r.to.String())
}

func (l *listener) write(frame []byte, to net.HardwareAddr) error {
	if _, err := l.frames.WriteTo(frame, &packet.Addr{HardwareAddr: to}); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// close closes the sockets once; closing the group socket leaves every
// group it joined.
func (l *listener) close() error {
	l.closing.Store(true)
	l.closeOnce.Do(func() {
		errs := []error{l.frames.Close()}
		if l.groups != nil {
			errs = append(errs, l.groups.Close())
		}
		if err := errors.Join(errs...); err != nil {
			l.closeErr = fmt.Errorf("close %s: %w", l.key, err)
		}
	})
	return l.closeErr
}
