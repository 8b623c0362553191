package bgp

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// Test ASNs are private; router IDs and next hops are documentation
// addresses, used as identifiers only.
const (
	nodeASN   = 64512
	routerASN = 64513
)

// harness runs a Speaker for one test.
type harness struct {
	t       *testing.T
	sp      *Speaker
	log     *logLines
	metrics *Metrics
	clock   *clocktesting.FakePassiveClock
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	runErr  error
}

func startSpeaker(t *testing.T, opts ...func(*Options)) *harness {
	t.Helper()
	return startSpeakerV(t, 1, opts...)
}

// startSpeakerV starts a speaker whose log keeps lines up to verbosity v.
func startSpeakerV(t *testing.T, v int, opts ...func(*Options)) *harness {
	t.Helper()
	log, lines := newLog(t, v)
	h := &harness{
		t: t, log: lines, metrics: NewMetrics(),
		clock: clocktesting.NewFakePassiveClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		done:  make(chan error, 1),
	}
	o := Options{Log: log, Metrics: h.metrics, Clock: h.clock}
	for _, f := range opts {
		f(&o)
	}
	h.sp = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.sp.Run(ctx) }()
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// stop ends Run and returns its error.
func (h *harness) stop() error {
	h.once.Do(func() {
		h.cancel()
		select {
		case h.runErr = <-h.done:
		case <-time.After(30 * time.Second):
			h.t.Errorf("Run did not return 30s after its context ended")
		}
	})
	return h.runErr
}

// set applies d and fails the test on any error.
func (h *harness) set(d Desired) {
	h.t.Helper()
	if err := h.trySet(d); err != nil {
		h.t.Fatalf("Set: %v", err)
	}
}

func (h *harness) trySet(d Desired) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return h.sp.Set(ctx, d)
}

func (h *harness) status(name string) PeerStatus {
	for _, s := range h.sp.Status() {
		if s.Name == name {
			return s
		}
	}
	h.t.Fatalf("no status for session %q in %+v", name, h.sp.Status())
	return PeerStatus{}
}

func (h *harness) waitEstablished(name string) {
	h.t.Helper()
	eventually(h.t, 20*time.Second, "session "+name+" established", func() error {
		if s := h.status(name); !s.Established {
			return fmt.Errorf("state %s, last error %q", s.State, s.LastError)
		}
		return nil
	})
}

// session returns a session from src to the router, eBGP, dual-stack,
// with a 1s connect retry so that tests do not wait.
func (r *router) session(name, src string, opts ...func(*Session)) Session {
	s := Session{
		Name:          name,
		MyASN:         nodeASN,
		PeerASN:       r.asn,
		PeerAddress:   r.addr,
		PeerPort:      r.port,
		SourceAddress: netip.MustParseAddr(src),
		RouterID:      netip.MustParseAddr("198.51.100.1"),
		ConnectTime:   time.Second,
		Families:      []Family{IPv4Unicast, IPv6Unicast},
	}
	for _, f := range opts {
		f(&s)
	}
	return s
}

func withASNs(my, peer uint32) func(*Session) {
	return func(s *Session) { s.MyASN, s.PeerASN = my, peer }
}

func withRouterID(id string) func(*Session) {
	return func(s *Session) { s.RouterID = netip.MustParseAddr(id) }
}

func withFamilies(f ...Family) func(*Session) {
	return func(s *Session) { s.Families = f }
}

func withNextHops(v4, v6 string) func(*Session) {
	return func(s *Session) {
		if v4 != "" {
			s.NextHop4 = netip.MustParseAddr(v4)
		}
		if v6 != "" {
			s.NextHop6 = netip.MustParseAddr(v6)
		}
	}
}

func withPassword(p string) func(*Session) {
	return func(s *Session) { s.Password = p }
}

func withGR() func(*Session) {
	return func(s *Session) { s.GracefulRestart = true }
}

func withHoldTime(d time.Duration) func(*Session) {
	return func(s *Session) { s.HoldTime = d }
}

// path returns a path with optional attributes.
func path(prefix string, opts ...func(*Path)) Path {
	p := Path{Prefix: netip.MustParsePrefix(prefix)}
	for _, f := range opts {
		f(&p)
	}
	return p
}

func comms(c ...uint32) func(*Path) {
	return func(p *Path) { p.Communities = c }
}

func large(c ...LargeCommunity) func(*Path) {
	return func(p *Path) { p.LargeCommunities = c }
}

func localPref(v uint32) func(*Path) {
	return func(p *Path) { p.LocalPref = &v }
}

// community builds a standard community from its two halves.
func community(asn, value uint16) uint32 { return uint32(asn)<<16 | uint32(value) }

func desired(sessions ...Session) Desired {
	return Desired{Sessions: sessions, Paths: map[string][]Path{}}
}

func (d Desired) with(name string, paths ...Path) Desired {
	d.Paths[name] = paths
	return d
}
