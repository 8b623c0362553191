// Package gobgprouter is the lab's second router implementation beside FRR:
// a standalone GoBGP server, built from the Go module, that accepts a
// session from every node (it never dials) and tells what it received as
// JSON. It installs nothing in a kernel table: it checks the control plane
// (paths, attributes, withdrawals), while FRR checks the data path.
package gobgprouter

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Config is the router's side of every session.
type Config struct {
	ASN      uint32
	RouterID netip.Addr
	// Listen are the addresses it accepts sessions on, at Port (179 when 0).
	Listen []netip.Addr
	Port   int32
	// PeerASN is every neighbour's ASN; equal to ASN for iBGP.
	PeerASN   uint32
	Neighbors []netip.Addr
	// Password is the TCP MD5 password of every neighbour; "" for none.
	Password string
	// HoldTime is what the router proposes; the session uses the smaller
	// of the two sides' values.
	HoldTime time.Duration
}

// Validate says what is missing from c.
func (c Config) Validate() error {
	switch {
	case c.ASN == 0 || c.PeerASN == 0:
		return errors.New("asn and peer-asn are required")
	case !c.RouterID.Is4():
		return fmt.Errorf("router ID %s is not an IPv4 address", c.RouterID)
	case len(c.Listen) == 0:
		return errors.New("at least one listen address is required")
	case len(c.Neighbors) == 0:
		return errors.New("at least one neighbour is required")
	}
	return nil
}

// Router is one GoBGP server playing the router.
type Router struct {
	cfg Config
	srv *server.BgpServer
}

// New returns a router for cfg; Run starts it.
func New(cfg Config) *Router {
	return &Router{cfg: cfg, srv: server.NewBgpServer()}
}

// Run serves BGP until ctx ends, then stops every session with a
// NOTIFICATION (Cease), as a router that is shut down does.
func (r *Router) Run(ctx context.Context) error {
	if err := r.cfg.Validate(); err != nil {
		return err
	}
	go r.srv.Serve()
	port := r.cfg.Port
	if port == 0 {
		port = 179
	}
	g := &api.Global{Asn: r.cfg.ASN, RouterId: r.cfg.RouterID.String(), ListenPort: port}
	for _, a := range r.cfg.Listen {
		g.ListenAddresses = append(g.ListenAddresses, a.String())
	}
	if err := r.srv.StartBgp(ctx, &api.StartBgpRequest{Global: g}); err != nil {
		return fmt.Errorf("start BGP: %w", err)
	}
	for _, n := range r.cfg.Neighbors {
		if err := r.srv.AddPeer(ctx, &api.AddPeerRequest{Peer: r.peer(n)}); err != nil {
			return fmt.Errorf("add neighbour %s: %w", n, err)
		}
	}
	<-ctx.Done()
	if err := r.srv.StopBgp(context.Background(), &api.StopBgpRequest{}); err != nil {
		return fmt.Errorf("stop BGP: %w", err)
	}
	return nil
}

// peer is the neighbour n: passive, both unicast families, whatever the
// session's own family, as the lab's FRR neighbours.
func (r *Router) peer(n netip.Addr) *api.Peer {
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: n.String(), PeerAsn: r.cfg.PeerASN, AuthPassword: r.cfg.Password},
		Transport: &api.Transport{PassiveMode: true},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime: uint64(r.cfg.HoldTime.Seconds()), KeepaliveInterval: uint64(r.cfg.HoldTime.Seconds() / 3),
		}},
	}
	for _, f := range families() {
		p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: f, Enabled: true}})
	}
	return p
}

func families() []*api.Family {
	return []*api.Family{
		{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST},
		{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST},
	}
}
