package liveness

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// lossyNet simulates partitions between speakers in one process: every
// speaker's transport asks it before sending, and a cut pair exchanges
// nothing, in either direction. A cut is a silent drop, as when a switch
// fails: packets vanish and connection attempts hang until their timeout
// (no refusal comes back to speed things up).
type lossyNet struct {
	mu  sync.Mutex
	cut map[[2]netip.AddrPort]bool
	// bigFrom drops the UDP packets from an address that are larger than
	// the size it maps to: the gossip that carries a long meta is lost,
	// while probes and TCP go through.
	bigFrom map[netip.AddrPort]int
}

func newLossyNet() *lossyNet {
	return &lossyNet{cut: map[[2]netip.AddrPort]bool{}, bigFrom: map[netip.AddrPort]int{}}
}

// dropBig drops every UDP packet from a that is larger than size bytes.
func (n *lossyNet) dropBig(a netip.AddrPort, size int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bigFrom[a] = size
}

func (n *lossyNet) tooBig(from netip.AddrPort, size int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	limit, ok := n.bigFrom[from]
	return ok && size > limit
}

// isolate cuts a off from each of others, both ways.
func (n *lossyNet) isolate(a netip.AddrPort, others ...netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range others {
		n.cut[[2]netip.AddrPort{a, b}] = true
		n.cut[[2]netip.AddrPort{b, a}] = true
	}
}

// heal removes every cut.
func (n *lossyNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.cut)
}

func (n *lossyNet) blocked(from netip.AddrPort, to string) bool {
	ap, err := netip.ParseAddrPort(to)
	if err != nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut[[2]netip.AddrPort{from, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}]
}

// wrap is the transport seam for the speaker at self. sent, if not nil,
// counts the packets it sends (dropped or not).
func (n *lossyNet) wrap(self netip.AddrPort, sent *atomic.Int64) wrapTransport {
	return func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		return &lossyTransport{NodeAwareTransport: inner, net: n, self: self, sent: sent, done: make(chan struct{})}
	}
}

type lossyTransport struct {
	memberlist.NodeAwareTransport
	net  *lossyNet
	self netip.AddrPort
	sent *atomic.Int64
	done chan struct{}
	once sync.Once
}

func (t *lossyTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *lossyTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.sent != nil {
		t.sent.Add(1)
	}
	if t.net.blocked(t.self, a.Addr) || t.net.tooBig(t.self, len(b)) {
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

func (t *lossyTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *lossyTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.net.blocked(t.self, a.Addr) {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-t.done:
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	return t.NodeAwareTransport.DialAddressTimeout(a, timeout)
}

func (t *lossyTransport) Shutdown() error {
	t.once.Do(func() { close(t.done) })
	return t.NodeAwareTransport.Shutdown()
}
