package bgp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// gobgpServer is an embedded GoBGP server with its log tap. Each open
// session has one of its own.
type gobgpServer struct {
	srv *server.BgpServer
	tap *logTap
}

// openSession is a session the speaker has open: its applied state, its
// server, and its monitor.
type openSession struct {
	applied
	gs        *gobgpServer
	mon       *monitor
	stopWatch context.CancelFunc
}

const (
	// globalTable is GoBGP's name for the global RIB in policy
	// assignments.
	globalTable = "global"
	// importPolicy names the one policy a server has.
	importPolicy = "herald-originate-only"
)

// takeServer returns an idle server, or a new one. A GoBGP server's Serve
// loop never returns, so a closed session's server is kept for the next
// session rather than leaked: the number of servers never exceeds the
// largest number of sessions open at once.
func (st *state) takeServer() *gobgpServer {
	if n := len(st.idle); n > 0 {
		gs := st.idle[n-1]
		st.idle = st.idle[:n-1]
		return gs
	}
	tap := &logTap{log: st.log.WithName("gobgp")}
	// No GrpcListenAddress option: GoBGP then starts no gRPC server.
	srv := server.NewBgpServer(server.LoggerOption(tap))
	go srv.Serve()
	return &gobgpServer{srv: srv, tap: tap}
}

// open starts a session and advertises paths on it. The paths go into the
// server's RIB before the neighbour is added, so that the first UPDATEs
// (and the End-of-RIB) carry them all. On failure nothing stays open; the
// returned session is nil. A path that fails is reported in the error and
// left out.
func (st *state) open(ctx context.Context, s Session, paths []Path) (*openSession, error) {
	gs := st.takeServer()
	if err := gs.srv.StartBgp(ctx, &api.StartBgpRequest{Global: globalConfig(s, st.listen.port)}); err != nil {
		st.idle = append(st.idle, gs)
		return nil, fmt.Errorf("%w: start BGP for session %q: %w", ErrApply, s.Name, err)
	}
	if err := originateOnly(ctx, gs.srv); err != nil {
		return nil, errors.Join(fmt.Errorf("%w: set import policy for session %q: %w", ErrApply, s.Name, err), st.release(ctx, gs))
	}
	o := &openSession{
		applied: applied{session: s, paths: map[netip.Prefix]Path{}},
		gs:      gs,
		mon:     newMonitor(s, st.clock, st.log, st.metrics),
	}
	gs.tap.mon.Store(o.mon)
	watchCtx, stop := context.WithCancel(context.Background())
	o.stopWatch = stop
	err := gs.srv.WatchEvent(watchCtx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, st.peerEvents(watchCtx, o))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%w: watch session %q: %w", ErrApply, s.Name, err), st.discard(ctx, o))
	}
	perr := st.announce(ctx, o, paths)
	if err := gs.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: peerConfig(s)}); err != nil {
		return nil, errors.Join(fmt.Errorf("%w: add neighbour %s for session %q: %w", ErrApply, s.PeerAddress, s.Name, err), st.discard(ctx, o))
	}
	return o, perr
}

// originateOnly keeps what the router sends out of the server's RIB:
// Herald only originates routes, and a route from the router for one of
// our prefixes (reflected from another node, say) could win over ours and
// withdraw it. GoBGP applies the global import policy to local paths too,
// so the policy accepts those and rejects the rest. StartBgp resets
// policies, so a reused server starts without it.
func originateOnly(ctx context.Context, srv *server.BgpServer) error {
	err := srv.AddPolicy(ctx, &api.AddPolicyRequest{Policy: &api.Policy{
		Name: importPolicy,
		Statements: []*api.Statement{{
			Name:       importPolicy + "-local",
			Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
			Actions:    &api.Actions{RouteAction: api.RouteAction_ACCEPT},
		}},
	}})
	if err != nil {
		return err
	}
	return srv.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: &api.PolicyAssignment{
		Name:          globalTable,
		Direction:     api.PolicyDirection_IMPORT,
		Policies:      []*api.Policy{{Name: importPolicy}},
		DefaultAction: api.RouteAction_REJECT,
	}})
}

// peerEvents turns GoBGP's peer events into monitor reports.
func (st *state) peerEvents(ctx context.Context, o *openSession) func(*api.WatchEventResponse) {
	return func(r *api.WatchEventResponse) {
		pe := r.GetPeer()
		if pe == nil || pe.Type != api.WatchEventResponse_PeerEvent_STATE || pe.Peer.GetState() == nil {
			return
		}
		state := stateName(pe.Peer.State.SessionState)
		if state != "established" {
			o.mon.peerState(state, nil)
			return
		}
		fams, asn := negotiated(ctx, o.gs.srv, o.session)
		if o.session.DynamicASN == DynamicASNExternal && asn == o.session.MyASN {
			// GoBGP takes any ASN when none is configured; "external"
			// excludes our own, so the session is reset, as a router
			// configured with "remote-as external" would refuse it.
			o.mon.refuse(fmt.Sprintf("the router uses our own ASN %d, but dynamicASN is external: resetting the session", asn))
			err := o.gs.srv.ResetPeer(ctx, &api.ResetPeerRequest{
				Address:       o.session.PeerAddress.String(),
				Communication: "dynamicASN external, but the peer uses our own ASN",
			})
			if err != nil {
				o.mon.log.Error(err, "reset BGP session")
			}
			return
		}
		o.mon.peerState(state, fams)
	}
}

func stateName(s api.PeerState_SessionState) string {
	switch s {
	case api.PeerState_IDLE:
		return "idle"
	case api.PeerState_CONNECT:
		return "connect"
	case api.PeerState_ACTIVE:
		return "active"
	case api.PeerState_OPENSENT:
		return "opensent"
	case api.PeerState_OPENCONFIRM:
		return "openconfirm"
	case api.PeerState_ESTABLISHED:
		return "established"
	}
	return "unknown"
}

// negotiated returns the families both ends announced in their OPEN, and
// the router's ASN. A router that sends no multiprotocol capability
// carries IPv4 unicast only (RFC 4760).
func negotiated(ctx context.Context, srv *server.BgpServer, s Session) ([]Family, uint32) {
	var remote []*api.Peer
	err := srv.ListPeer(ctx, &api.ListPeerRequest{Address: s.PeerAddress.String()}, func(p *api.Peer) { remote = append(remote, p) })
	if err != nil || len(remote) != 1 || remote[0].State == nil {
		return nil, 0
	}
	asn := remote[0].State.PeerAsn
	caps, err := apiutil.UnmarshalCapabilities(remote[0].State.RemoteCap)
	if err != nil {
		return nil, asn
	}
	theirs := map[Family]bool{}
	mp := false
	for _, c := range caps {
		if m, ok := c.(*bgp.CapMultiProtocol); ok {
			mp = true
			if f, ok := familyFromRF(m.CapValue); ok {
				theirs[f] = true
			}
		}
	}
	if !mp {
		theirs[IPv4Unicast] = true
	}
	var fams []Family
	for _, f := range s.Families {
		if theirs[f] {
			fams = append(fams, f)
		}
	}
	return fams, asn
}

// announce advertises paths on o (new paths, or new attributes for known
// prefixes: GoBGP replaces a path it already has). o.paths records each
// path that GoBGP took.
func (st *state) announce(ctx context.Context, o *openSession, paths []Path) error {
	var first error
	failed := 0
	for _, p := range paths {
		ap, err := apiPath(o.session, p, st.clock.Now())
		if err == nil {
			_, err = o.gs.srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: ap})
		}
		if err != nil {
			failed++
			if first == nil {
				first = fmt.Errorf("%s: %w", p.Prefix, err)
			}
			continue
		}
		o.paths[p.Prefix] = p
	}
	if failed > 0 {
		return fmt.Errorf("%w: advertise %d of %d paths on session %q, the first %w", ErrApply, failed, len(paths), o.session.Name, first)
	}
	return nil
}

// withdraw withdraws prefixes from o; o.paths forgets each one GoBGP
// withdrew.
func (st *state) withdraw(ctx context.Context, o *openSession, prefixes []netip.Prefix) error {
	var first error
	failed := 0
	for _, pfx := range prefixes {
		ap, err := apiPath(o.session, o.paths[pfx], st.clock.Now())
		if err == nil {
			err = o.gs.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: ap.Family, Path: ap})
		}
		if err != nil {
			failed++
			if first == nil {
				first = fmt.Errorf("%s: %w", pfx, err)
			}
			continue
		}
		delete(o.paths, pfx)
	}
	if failed > 0 {
		return fmt.Errorf("%w: withdraw %d of %d prefixes on session %q, the first %w", ErrApply, failed, len(prefixes), o.session.Name, first)
	}
	return nil
}

// close ends a session while the speaker runs: deleting the neighbour
// makes GoBGP send the router a NOTIFICATION Cease, so that it drops our
// routes at once (no withdrawals needed), from the session's own
// goroutine. The server then goes back to the pool. The session is closed
// even when a step fails.
func (st *state) close(ctx context.Context, o *openSession) error {
	delete(st.sessions, o.session.Name)
	err := o.gs.srv.DeletePeer(ctx, &api.DeletePeerRequest{Address: o.session.PeerAddress.String()})
	if err != nil {
		err = fmt.Errorf("%w: delete neighbour of session %q: %w", ErrApply, o.session.Name, err)
	}
	return errors.Join(err, st.discard(ctx, o))
}

// discard stops o's server and returns it to the pool.
func (st *state) discard(ctx context.Context, o *openSession) error {
	o.stopWatch()
	o.mon.close()
	o.gs.tap.mon.Store(nil)
	return st.release(ctx, o.gs)
}

// release stops a started server and puts it in the pool. Deleting the
// paths empties its RIB, which would otherwise stay in memory until the
// server is used again; it must come first, as StopBgp makes GoBGP refuse
// it. A neighbour still there would get them as withdrawals.
func (st *state) release(ctx context.Context, gs *gobgpServer) error {
	var errs []error
	if err := gs.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL}); err != nil {
		errs = append(errs, fmt.Errorf("%w: clear RIB: %w", ErrApply, err))
	}
	if err := gs.srv.StopBgp(ctx, &api.StopBgpRequest{}); err != nil {
		errs = append(errs, fmt.Errorf("%w: stop BGP: %w", ErrApply, err))
	}
	st.idle = append(st.idle, gs)
	return errors.Join(errs...)
}

// shutdown ends every session as Run returns. StopBgp sends each router a
// NOTIFICATION Cease and waits until the session's goroutines are done,
// so the Cease is on the wire before Run returns and the process exits.
// The servers are not used again.
func (st *state) shutdown(ctx context.Context) error {
	var errs []error
	for _, name := range sortedNames(st.sessions) {
		o := st.sessions[name]
		o.stopWatch()
		o.mon.close()
		o.gs.tap.mon.Store(nil)
		if err := o.gs.srv.StopBgp(ctx, &api.StopBgpRequest{}); err != nil {
			errs = append(errs, fmt.Errorf("%w: stop BGP for session %q: %w", ErrApply, name, err))
		}
		delete(st.sessions, name)
	}
	return errors.Join(errs...)
}

// prefixCounts counts o's paths by family.
func prefixCounts(paths map[netip.Prefix]Path) map[Family]int {
	counts := map[Family]int{}
	for pfx := range maps.Keys(paths) {
		counts[familyOf(pfx.Addr())]++
	}
	return counts
}

func sortedNames[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
