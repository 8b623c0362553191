package layer2

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/net/ipv6"
)

// Addresses used throughout the tests: documentation ranges only.
var (
	ourMAC    = mustMAC("02:00:00:00:00:01")
	clientMAC = mustMAC("02:00:00:00:00:99")
	otherMAC  = mustMAC("02:00:00:00:00:77")
	clientLL  = netip.MustParseAddr("fe80::99")
	client4   = netip.MustParseAddr("198.51.100.99")
	client6   = netip.MustParseAddr("2001:db8::99")
	vip4      = netip.MustParseAddr("198.51.100.10")
	vip4b     = netip.MustParseAddr("198.51.100.11")
	vip6      = netip.MustParseAddr("2001:db8::10")
	vip6b     = netip.MustParseAddr("2001:db8::11")
	// vip6c shares vip6's solicited-node group (same last 24 bits).
	vip6c = netip.MustParseAddr("2001:db8:1::10")
)

// waitFor bounds every wait in these tests.
const waitFor = 5 * time.Second

// runInBackground calls run in a goroutine and returns a function that
// cancels its context and checks that it returns nil in time; the test's
// cleanup calls it too.
func runInBackground(t *testing.T, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(waitFor):
				t.Errorf("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func set(ips ...netip.Addr) addrSet {
	s := addrSet{}
	for _, ip := range ips {
		s[ip] = struct{}{}
	}
	return s
}

// arpRequestFrame builds an ARP request frame from sender asking for target.
func arpRequestFrame(t testing.TB, senderMAC net.HardwareAddr, senderIP, target netip.Addr, dst net.HardwareAddr) []byte {
	t.Helper()
	b, err := arpFrame(arp.OperationRequest, senderMAC, senderMAC, senderIP, make(net.HardwareAddr, 6), target, dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nsFrame builds a Neighbor Solicitation frame with a correct checksum and
// hop limit 255; slla nil leaves out the source link-layer address option.
func nsFrame(t testing.TB, srcMAC, dstMAC net.HardwareAddr, src, dst, target netip.Addr, slla net.HardwareAddr) []byte {
	t.Helper()
	ns := &ndp.NeighborSolicitation{TargetAddress: target}
	if slla != nil {
		ns.Options = []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: slla}}
	}
	b, err := ndpFrame(srcMAC, dstMAC, src, dst, ns)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// multicastNS is the usual address resolution: to the target's
// solicited-node group, from the client's global address, with its MAC.
func multicastNS(t testing.TB, target netip.Addr) []byte {
	g := solicitedNode(target)
	return nsFrame(t, clientMAC, multicastMAC(g), client6, g, target, clientMAC)
}

// tagged returns frame with an 802.1Q tag for VLAN 100.
func tagged(t testing.TB, frame []byte) []byte {
	t.Helper()
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil {
		t.Fatal(err)
	}
	f.VLAN = &ethernet.VLAN{ID: 100}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parsedARP is a received ARP frame.
type parsedARP struct {
	eth ethernet.Frame
	arp arp.Packet
}

func parseARPFrame(t testing.TB, b []byte) parsedARP {
	t.Helper()
	var p parsedARP
	if err := p.eth.UnmarshalBinary(b); err != nil {
		t.Fatalf("parse Ethernet: %v", err)
	}
	if p.eth.EtherType != ethernet.EtherTypeARP {
		t.Fatalf("EtherType %v, want ARP", p.eth.EtherType)
	}
	if err := p.arp.UnmarshalBinary(p.eth.Payload); err != nil {
		t.Fatalf("parse ARP: %v", err)
	}
	return p
}

// parsedNA is a received Neighbor Advertisement frame.
type parsedNA struct {
	eth  ethernet.Frame
	ip   *ipv6.Header
	na   *ndp.NeighborAdvertisement
	tlla net.HardwareAddr
}

func parseNAFrame(t testing.TB, b []byte) parsedNA {
	t.Helper()
	var p parsedNA
	if err := p.eth.UnmarshalBinary(b); err != nil {
		t.Fatalf("parse Ethernet: %v", err)
	}
	if p.eth.EtherType != ethernet.EtherTypeIPv6 {
		t.Fatalf("EtherType %v, want IPv6", p.eth.EtherType)
	}
	var err error
	if p.ip, err = ipv6.ParseHeader(p.eth.Payload); err != nil {
		t.Fatalf("parse IPv6: %v", err)
	}
	if p.ip.NextHeader != protocolICMPv6 || p.ip.HopLimit != 255 {
		t.Fatalf("next header %d hop limit %d, want 58 and 255", p.ip.NextHeader, p.ip.HopLimit)
	}
	body := p.eth.Payload[ipv6HeaderLen : ipv6HeaderLen+p.ip.PayloadLen]
	src, _ := netip.AddrFromSlice(p.ip.Src)
	dst, _ := netip.AddrFromSlice(p.ip.Dst)
	if !validChecksum(src, dst, body) {
		t.Fatalf("bad ICMPv6 checksum")
	}
	m, err := ndp.ParseMessage(body)
	if err != nil {
		t.Fatalf("parse NDP: %v", err)
	}
	var ok bool
	if p.na, ok = m.(*ndp.NeighborAdvertisement); !ok {
		t.Fatalf("got %T, want a Neighbor Advertisement", m)
	}
	for _, o := range p.na.Options {
		if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
			p.tlla = lla.Addr
		}
	}
	return p
}

// fakeConn is a packet socket: tests push frames and read errors in, and
// read what was written.
type fakeConn struct {
	in     chan []byte
	errs   chan error
	out    chan written
	closed chan struct{}
	once   sync.Once
	// onWrite, if set, runs before each write, with the frame.
	onWrite func(c *fakeConn, frame []byte)
}

type written struct {
	frame []byte
	to    net.HardwareAddr
}

func newFakeConn() *fakeConn {
	return &fakeConn{
		in:     make(chan []byte),
		errs:   make(chan error, 1),
		out:    make(chan written, 1000),
		closed: make(chan struct{}),
	}
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case f := <-c.in:
		return copy(b, f), &packet.Addr{HardwareAddr: clientMAC}, nil
	case err := <-c.errs:
		return 0, nil, err
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.onWrite != nil {
		c.onWrite(c, b)
	}
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	c.out <- written{frame: bytes.Clone(b), to: addr.(*packet.Addr).HardwareAddr}
	return len(b), nil
}

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *fakeConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *fakeConn) LocalAddr() net.Addr              { return &packet.Addr{HardwareAddr: ourMAC} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// deliver hands a frame to the listener's reader.
func (c *fakeConn) deliver(t testing.TB, frame []byte) {
	t.Helper()
	select {
	case c.in <- frame:
	case <-time.After(waitFor):
		t.Fatal("no reader took the frame")
	}
}

// next returns the next written frame.
func (c *fakeConn) next(t testing.TB) written {
	t.Helper()
	select {
	case w := <-c.out:
		return w
	case <-time.After(waitFor):
		t.Fatal("nothing was written")
		return written{}
	}
}

// drain returns every frame written so far.
func (c *fakeConn) drain() []written {
	var out []written
	for {
		select {
		case w := <-c.out:
			out = append(out, w)
		default:
			return out
		}
	}
}

// fakeGroups records multicast memberships.
type fakeGroups struct {
	mu     sync.Mutex
	fail   addrSet // groups whose join fails
	joined addrSet
	log    []string
	closed bool
}

func (g *fakeGroups) JoinGroup(group netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail.has(group) {
		return fmt.Errorf("join %s: %w", group, errInjected)
	}
	if g.joined.has(group) {
		return fmt.Errorf("join %s twice", group)
	}
	g.joined[group] = struct{}{}
	g.log = append(g.log, "join "+group.String())
	return nil
}

func (g *fakeGroups) LeaveGroup(group netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.joined.has(group) {
		return fmt.Errorf("leave %s, not joined", group)
	}
	delete(g.joined, group)
	g.log = append(g.log, "leave "+group.String())
	return nil
}

func (g *fakeGroups) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	return nil
}

func (g *fakeGroups) events() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.log)
}

var errInjected = errors.New("injected failure")

// fakeNet opens fake sockets. Every interface has ourMAC and index 1
// unless moved says otherwise, so that frames built once work on any of
// them.
type fakeNet struct {
	mu        sync.Mutex
	fail      map[string]error // interface → open error
	moved     map[string]link  // interface → what it stands for now
	gone      map[string]bool  // interfaces that no longer exist
	linksErr  error            // what links returns, if set
	failGroup addrSet          // groups whose join fails, on every interface
	conns     map[key]*fakeConn
	groups    map[key]*fakeGroups
	opens     map[key]int
	onWrite   func(c *fakeConn, frame []byte) // given to each new socket
}

func newFakeNet() *fakeNet {
	return &fakeNet{
		fail: map[string]error{}, moved: map[string]link{}, gone: map[string]bool{}, failGroup: addrSet{},
		conns: map[key]*fakeConn{}, groups: map[key]*fakeGroups{}, opens: map[key]int{},
	}
}

// linkLocked returns what iface stands for now.
func (n *fakeNet) linkLocked(iface string) link {
	if l, found := n.moved[iface]; found {
		return l
	}
	return link{index: 1, mac: ourMAC}
}

func (n *fakeNet) links(names []string) (map[string]link, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.linksErr != nil {
		return nil, n.linksErr
	}
	out := map[string]link{}
	for _, name := range names {
		if !n.gone[name] {
			out[name] = n.linkLocked(name)
		}
	}
	return out, nil
}

// move makes iface stand for another link from now on.
func (n *fakeNet) move(iface string, to link) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.moved[iface] = to
}

func (n *fakeNet) open(k key) (sockets, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail[k.iface]; err != nil {
		return sockets{}, err
	}
	if n.gone[k.iface] {
		return sockets{}, fmt.Errorf("look up interface %s: %w", k.iface, errInjected)
	}
	n.opens[k]++
	c := newFakeConn()
	c.onWrite = n.onWrite
	n.conns[k] = c
	s := sockets{link: n.linkLocked(k.iface), frames: c}
	if k.proto == protoNDP {
		g := &fakeGroups{fail: n.failGroup, joined: addrSet{}}
		n.groups[k] = g
		s.groups = g
	}
	return s, nil
}

func (n *fakeNet) conn(t testing.TB, iface string, p protocol) *fakeConn {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.conns[key{iface: iface, proto: p}]
	if c == nil {
		t.Fatalf("no %s socket was opened on %s", p, iface)
	}
	return c
}

func (n *fakeNet) group(t testing.TB, iface string) *fakeGroups {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.groups[key{iface: iface, proto: protoNDP}]
	if g == nil {
		t.Fatalf("no group socket was opened on %s", iface)
	}
	return g
}

// groupEvents returns the joins and leaves on iface, none before the first
// open.
func (n *fakeNet) groupEvents(iface string) []string {
	n.mu.Lock()
	g := n.groups[key{iface: iface, proto: protoNDP}]
	n.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.events()
}

func (n *fakeNet) openCount(iface string, p protocol) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opens[key{iface: iface, proto: p}]
}

func pairs(s ...any) []Announcement {
	var out []Announcement
	for i := 0; i < len(s); i += 2 {
		out = append(out, Announcement{IP: s[i].(netip.Addr), Interface: s[i+1].(string)})
	}
	return out
}
