package main

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// simNet is an in-memory LAN for memberlist: every speaker's transport
// sends through it. Packets are copied, may be delayed by latency and
// dropped with probability loss; a dead speaker's host is gone, so its
// packets vanish and connections to it hang until their timeout, as with a
// node that lost power (no refusal speeds up the others' verdict).
type simNet struct {
	latency time.Duration
	loss    float64

	mu    sync.RWMutex
	nodes map[netip.AddrPort]*simTransport
	rng   *rand.Rand
	rngMu sync.Mutex
	// dropped counts packets lost to a full receive queue: the simulation
	// falling behind, not the network's loss.
	dropped atomic.Int64
}

func newSimNet(latency time.Duration, loss float64, seed uint64) *simNet {
	return &simNet{latency: latency, loss: loss, nodes: map[netip.AddrPort]*simTransport{},
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// transport makes the transport of the speaker at addr.
func (n *simNet) transport(addr netip.AddrPort) *simTransport {
	t := &simTransport{net: n, addr: addr, queue: make(chan *memberlist.Packet, rcvBuf/minPacket),
		packets: make(chan *memberlist.Packet), streams: make(chan net.Conn, 64), done: make(chan struct{})}
	n.mu.Lock()
	n.nodes[addr] = t
	n.mu.Unlock()
	return t
}

func (n *simNet) lookup(addr string) *simTransport {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	t := n.nodes[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]
	if t == nil || t.down() {
		return nil
	}
	return t
}

func (n *simNet) lost() bool {
	if n.loss <= 0 {
		return false
	}
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return n.rng.Float64() < n.loss
}

// rcvBuf is how many bytes of packets a speaker's receive queue holds:
// Linux's default socket receive buffer (net.core.rmem_default). A starved
// speaker loses what does not fit, as a real socket would, instead of
// queueing seconds of stale packets (the queue held 4,096 packets per
// speaker before: up to 5.7 MB each, 2.8 GB at 500 speakers).
const rcvBuf = 212992

// minPacket sizes the queue's channel: rcvBuf of the smallest packets
// memberlist sends (an encrypted ack is about this long).
const minPacket = 64

// simTransport is one speaker's end of a simNet.
type simTransport struct {
	net  *simNet
	addr netip.AddrPort
	// queue is the receive buffer, queued the bytes in it (at most
	// rcvBuf); pump hands its packets to memberlist through packets.
	queue   chan *memberlist.Packet
	queued  atomic.Int64
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{}
	once    sync.Once
	// sent counts the bytes this speaker sent, packets and streams.
	sent atomic.Int64
}

var _ memberlist.NodeAwareTransport = (*simTransport)(nil)

func (t *simTransport) down() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *simTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.addr.Addr().AsSlice(), int(t.addr.Port()), nil
}

func (t *simTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *simTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	t.sent.Add(int64(len(b)))
	dest := t.net.lookup(a.Addr)
	if dest == nil || t.net.lost() {
		return now, nil
	}
	// memberlist may reuse b once WriteTo returns, as a socket allows.
	buf := append([]byte(nil), b...)
	from := net.UDPAddrFromAddrPort(t.addr)
	if t.net.latency <= 0 {
		dest.deliver(buf, from)
	} else {
		time.AfterFunc(t.net.latency, func() { dest.deliver(buf, from) })
	}
	return now, nil
}

// deliver queues a packet, or drops it when the receive buffer is full,
// as a socket would.
func (t *simTransport) deliver(b []byte, from net.Addr) {
	if t.down() {
		return
	}
	if t.queued.Add(int64(len(b))) > rcvBuf {
		t.queued.Add(-int64(len(b)))
		t.net.dropped.Add(1)
		return
	}
	select {
	case t.queue <- &memberlist.Packet{Buf: b, From: from, Timestamp: time.Now()}:
	default:
		t.queued.Add(-int64(len(b)))
		t.net.dropped.Add(1)
	}
}

// pump hands the queued packets to memberlist, one at a time as it reads
// them, until the transport shuts down: what memberlist holds is out of
// the receive buffer.
func (t *simTransport) pump() {
	for {
		select {
		case <-t.done:
			return
		case p := <-t.queue:
			t.queued.Add(-int64(len(p.Buf)))
			select {
			case t.packets <- p:
			case <-t.done:
				return
			}
		}
	}
}

func (t *simTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

func (t *simTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *simTransport) IngestPacket(net.Conn, net.Addr, time.Time, bool) error {
	return errors.New("the simulated network does not ingest packets")
}

func (t *simTransport) IngestStream(net.Conn) error {
	return errors.New("the simulated network does not ingest streams")
}

func (t *simTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout connects through an in-memory pipe, delayed by the
// latency. A connection to a dead speaker hangs until timeout.
func (t *simTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	dest := t.net.lookup(a.Addr)
	if dest == nil {
		select {
		case <-timer.C:
		case <-t.done:
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	if t.net.latency > 0 {
		time.Sleep(t.net.latency)
	}
	local, remote := net.Pipe()
	select {
	case dest.streams <- &countedConn{Conn: remote, sent: &dest.sent}:
		return &countedConn{Conn: local, sent: &t.sent}, nil
	case <-timer.C:
	case <-dest.done:
	case <-t.done:
	}
	_ = local.Close()
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
}

func (t *simTransport) Shutdown() error {
	t.once.Do(func() { close(t.done) })
	return nil
}

// countedConn counts the bytes written into sent.
type countedConn struct {
	net.Conn
	sent *atomic.Int64
}

func (c *countedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.sent.Add(int64(n))
	return n, err
}
