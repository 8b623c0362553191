package bgp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/heraldlb/herald/internal/testenv"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// router is a second embedded GoBGP server, in the test process, that
// plays the top-of-rack router. It listens on a loopback address and a
// free port, and never dials: the speaker connects to it.
type router struct {
	t    *testing.T
	srv  *server.BgpServer
	addr netip.Addr
	port uint16
	asn  uint32
}

// routerID is the routers' BGP identifier: an identifier only, no traffic
// is ever sent to it.
const routerID = "203.0.113.254"

func startRouter(t *testing.T, addr string, asn uint32) *router {
	t.Helper()
	a := netip.MustParseAddr(addr)
	// The router's warnings go to the test log, if the test fails.
	rlog, _ := newLog(t, vGoBGPWarn)
	srv := server.NewBgpServer(server.LoggerOption(&logTap{log: rlog.WithName("router")}))
	go srv.Serve()
	r := &router{t: t, srv: srv, addr: a, port: freePort(t, a), asn: asn}
	err := srv.StartBgp(context.Background(), &api.StartBgpRequest{Global: &api.Global{
		Asn: asn, RouterId: routerID, ListenPort: int32(r.port), ListenAddresses: []string{addr},
	}})
	if err != nil {
		t.Fatalf("start router on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = srv.StopBgp(context.Background(), &api.StopBgpRequest{}) })
	return r
}

// freePort finds a port that nothing listens on at addr.
func freePort(t *testing.T, addr netip.Addr) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatalf("find a free port on %s: %v", addr, err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// neighbor configures the router's side of a session.
type neighbor struct {
	addr     string
	asn      uint32
	families []Family // default: the family of addr
	password string
	// gr enables graceful restart for grFamilies (default: families).
	gr         bool
	grFamilies []Family
	// dial makes the router connect, for passive speaker sessions, to
	// port dialPort.
	dialPort uint16
}

func (r *router) addNeighbor(n neighbor) {
	r.t.Helper()
	fams := n.families
	if len(fams) == 0 {
		fams = []Family{familyOf(netip.MustParseAddr(n.addr))}
	}
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: n.addr, PeerAsn: n.asn, AuthPassword: n.password},
		Transport: &api.Transport{PassiveMode: n.dialPort == 0, RemotePort: uint32(n.dialPort), LocalAddress: r.addr.String()},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: 1}},
	}
	grFams := n.grFamilies
	if n.gr {
		p.GracefulRestart = &api.GracefulRestart{Enabled: true}
		if grFams == nil {
			grFams = fams
		}
	}
	for _, f := range fams {
		a := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: apiFamily(f), Enabled: true}}
		if n.gr && slices.Contains(grFams, f) {
			a.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		p.AfiSafis = append(p.AfiSafis, a)
	}
	if err := r.srv.AddPeer(context.Background(), &api.AddPeerRequest{Peer: p}); err != nil {
		r.t.Fatalf("router %s: add neighbour %s: %v", r.addr, n.addr, err)
	}
}

func (r *router) deleteNeighbor(addr string) {
	r.t.Helper()
	if err := r.srv.DeletePeer(context.Background(), &api.DeletePeerRequest{Address: addr}); err != nil {
		r.t.Fatalf("router %s: delete neighbour %s: %v", r.addr, addr, err)
	}
}

// received is a path as the router got it.
type received struct {
	NextHop     netip.Addr
	Communities []uint32
	Large       []LargeCommunity
	LocalPref   *uint32
}

func (p received) String() string {
	s := "nh " + p.NextHop.String()
	if len(p.Communities) > 0 {
		var cs []string
		for _, c := range p.Communities {
			cs = append(cs, fmt.Sprintf("%d:%d", c>>16, c&0xffff))
		}
		s += " comm " + strings.Join(cs, ",")
	}
	if len(p.Large) > 0 {
		s += fmt.Sprintf(" large %v", p.Large)
	}
	if p.LocalPref != nil {
		s += fmt.Sprintf(" lp %d", *p.LocalPref)
	}
	return s
}

// paths returns what the router has from the neighbour at addr, in both
// families.
func (r *router) paths(addr string) map[netip.Prefix]received {
	r.t.Helper()
	out := map[netip.Prefix]received{}
	for _, f := range []Family{IPv4Unicast, IPv6Unicast} {
		err := r.srv.ListPath(context.Background(), &api.ListPathRequest{
			TableType: api.TableType_ADJ_IN, Name: addr, Family: apiFamily(f),
		}, func(d *api.Destination) {
			for _, p := range d.Paths {
				pfx, rp := decodeReceived(r.t, p)
				out[pfx] = rp
			}
		})
		if err != nil && !strings.Contains(err.Error(), "not found") {
			r.t.Fatalf("router %s: list paths from %s: %v", r.addr, addr, err)
		}
	}
	return out
}

// count is the number of prefixes the router has from addr.
func (r *router) count(addr string) int {
	n := 0
	for _, f := range []Family{IPv4Unicast, IPv6Unicast} {
		rsp, err := r.srv.GetTable(context.Background(), &api.GetTableRequest{TableType: api.TableType_ADJ_IN, Name: addr, Family: apiFamily(f)})
		if err == nil {
			n += int(rsp.NumDestination)
		}
	}
	return n
}

func decodeReceived(t *testing.T, p *api.Path) (netip.Prefix, received) {
	t.Helper()
	nlri, err := apiutil.GetNativeNlri(p)
	if err != nil {
		t.Fatalf("decode NLRI: %v", err)
	}
	pfx := netip.MustParsePrefix(nlri.String())
	attrs, err := apiutil.GetNativePathAttributes(p)
	if err != nil {
		t.Fatalf("decode attributes of %s: %v", pfx, err)
	}
	var rp received
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeNextHop:
			rp.NextHop, _ = netip.AddrFromSlice(a.Value)
			rp.NextHop = rp.NextHop.Unmap()
		case *bgp.PathAttributeMpReachNLRI:
			rp.NextHop, _ = netip.AddrFromSlice(a.Nexthop)
			rp.NextHop = rp.NextHop.Unmap()
		case *bgp.PathAttributeCommunities:
			rp.Communities = a.Value
		case *bgp.PathAttributeLargeCommunities:
			for _, c := range a.Values {
				rp.Large = append(rp.Large, LargeCommunity{c.ASN, c.LocalData1, c.LocalData2})
			}
		case *bgp.PathAttributeLocalPref:
			v := a.Value
			rp.LocalPref = &v
		}
	}
	return pfx, rp
}

// peerState is the router's view of its session with addr.
func (r *router) peerState(addr string) *api.Peer {
	r.t.Helper()
	var got *api.Peer
	err := r.srv.ListPeer(context.Background(), &api.ListPeerRequest{Address: addr}, func(p *api.Peer) { got = p })
	if err != nil || got == nil {
		r.t.Fatalf("router %s: no neighbour %s: %v", r.addr, addr, err)
	}
	return got
}

func (r *router) established(addr string) bool {
	return r.peerState(addr).GetState().GetSessionState() == api.PeerState_ESTABLISHED
}

// eventually polls cond until it returns nil (see testenv.Eventually).
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := cond(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// logLines collects what the speaker logs, and prints it if the test
// fails.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func newLog(t *testing.T, verbosity int) (logr.Logger, *logLines) {
	l := &logLines{}
	log := funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: verbosity})
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range l.snapshot() {
				t.Log(s)
			}
		}
	})
	return log, l
}

func (l *logLines) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

// matching returns the lines that contain every one of subs.
func (l *logLines) matching(subs ...string) []string {
	var out []string
	for _, s := range l.snapshot() {
		ok := true
		for _, sub := range subs {
			ok = ok && strings.Contains(s, sub)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}
