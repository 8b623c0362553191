package liveness

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/utils/clock"

	"github.com/heraldlb/herald/internal/testenv"
)

// testKey is a fixed AES-128 key: the tests need a key, not a secret.
var testKey = []byte("herald-test-key!")

// logRecorder keeps every log line of a speaker, so a test can look for a
// message and print them all when it fails. It never writes to t, because
// memberlist's goroutines may still log after the test has ended.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.lines = append(r.lines, time.Now().Format("15:04:05.000")+" "+prefix+" "+args)
	}, funcr.Options{Verbosity: 1})
}

// find returns the first line that contains every one of parts.
func (r *logRecorder) find(parts ...string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if containsAll(l, parts) {
			return l, true
		}
	}
	return "", false
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// freeAddr returns an address on 127.0.0.1 whose port is free for both TCP
// and UDP right now.
func freeAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	return freeAddrOn(t, netip.MustParseAddr("127.0.0.1"))
}

// freeAddrOn returns an address on the loopback address ip whose port is
// free for both TCP and UDP right now.
func freeAddrOn(t *testing.T, ip netip.Addr) netip.AddrPort {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
		if err != nil {
			t.Fatalf("listen on %v: %v", ip, err)
		}
		ap := ln.Addr().(*net.TCPAddr).AddrPort()
		pc, err := net.ListenPacket("udp", ap.String())
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
	}
	t.Fatalf("no port free for both TCP and UDP on %v", ip)
	return netip.AddrPort{}
}

// testNode is one speaker running in the test process.
type testNode struct {
	name   string
	addr   netip.AddrPort
	l      *Liveness
	logs   *logRecorder
	sent   *atomic.Int64
	cancel context.CancelFunc
	// done is closed when Run has returned, with its error in err.
	done     chan struct{}
	err      error
	reported sync.Once
}

// cluster runs speakers on 127.0.0.1, all behind one lossyNet.
type cluster struct {
	t       *testing.T
	net     *lossyNet
	timings Timings
	// maxJoins, if not 0, replaces the speakers' maxJoins.
	maxJoins int
}

func newCluster(t *testing.T) *cluster {
	return &cluster{t: t, net: newLossyNet()}
}

type nodeOpt func(*Options)

func withKey(k []byte) nodeOpt { return func(o *Options) { o.SecretKey = k } }

func withClock(c clock.WithTicker) nodeOpt { return func(o *Options) { o.Clock = c } }

// start runs a speaker named name at addr that knows peers and gossips
// meta. It is stopped (without leaving) when the test ends.
func (c *cluster) start(name string, addr netip.AddrPort, peers []netip.AddrPort, meta []byte, opts ...nodeOpt) *testNode {
	c.t.Helper()
	n := &testNode{name: name, addr: addr, logs: &logRecorder{}, sent: &atomic.Int64{}, done: make(chan struct{})}
	o := Options{
		Name:          name,
		BindAddr:      addr.Addr(),
		BindPort:      int(addr.Port()),
		AdvertiseAddr: addr.Addr(),
		SecretKey:     testKey,
		Timings:       c.timings,
		Log:           n.logs.logger(),
	}
	for _, f := range opts {
		f(&o)
	}
	l, err := New(o)
	if err != nil {
		c.t.Fatalf("New(%s): %v", name, err)
	}
	l.wrap = c.net.wrap(addr, n.sent)
	if c.maxJoins != 0 {
		l.maxJoins = c.maxJoins
	}
	if err := l.Set(Desired{Peers: peers, Meta: meta}); err != nil {
		c.t.Fatalf("Set(%s): %v", name, err)
	}
	n.l = l
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		n.err = l.Run(ctx)
		close(n.done)
	}()
	c.t.Cleanup(func() { n.stop(c.t) })
	c.t.Cleanup(func() {
		if c.t.Failed() {
			c.t.Logf("logs of %s:\n%s", name, n.logs)
		}
	})
	return n
}

// stop cancels Run and waits for it to return; it is idempotent.
func (n *testNode) stop(t *testing.T) {
	t.Helper()
	n.cancel()
	select {
	case <-n.done:
		n.reported.Do(func() {
			if n.err != nil {
				t.Errorf("Run(%s): %v", n.name, n.err)
			}
		})
	case <-time.After(5 * time.Second):
		t.Errorf("Run(%s) did not return within 5s of its context ending", n.name)
	}
}

func memberNames(ms []Member) []string {
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

func (n *testNode) names() []string { return memberNames(n.l.Members()) }

func (n *testNode) sees(name string) bool { return slices.Contains(n.names(), name) }

// waitFor polls cond until it holds (see testenv.Eventually).
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, limit, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}

// waitMembers waits until every one of nodes sees exactly want.
func waitMembers(t *testing.T, limit time.Duration, nodes []*testNode, want ...string) {
	t.Helper()
	slices.Sort(want)
	waitFor(t, limit, fmt.Sprintf("every node to see %v", want), func() bool {
		for _, n := range nodes {
			if !slices.Equal(n.names(), want) {
				return false
			}
		}
		return true
	})
}

func addrs(nodes ...*testNode) []netip.AddrPort {
	var out []netip.AddrPort
	for _, n := range nodes {
		out = append(out, n.addr)
	}
	return out
}

// counterValue reads a counter or gauge.
func counterValue(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatalf("read metric: %v", err)
	}
	if c := pb.GetCounter(); c != nil {
		return c.GetValue()
	}
	return pb.GetGauge().GetValue()
}
