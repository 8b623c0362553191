package gobgprouter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// Path is one path the router received from a neighbour, as the lab's
// tests read it.
type Path struct {
	Prefix   netip.Prefix `json:"prefix"`
	Neighbor netip.Addr   `json:"neighbor"`
	NextHop  netip.Addr   `json:"nextHop"`
	// Communities are "ASN:value"; LargeCommunities "ASN:data1:data2".
	Communities      []string `json:"communities,omitempty"`
	LargeCommunities []string `json:"largeCommunities,omitempty"`
	// LocalPref is set when the neighbour sent one (iBGP).
	LocalPref *uint32 `json:"localPref,omitempty"`
}

// Neighbor is the router's view of one session.
type Neighbor struct {
	Address netip.Addr `json:"address"`
	// State is GoBGP's: idle, connect, active, opensent, openconfirm or
	// established.
	State    string `json:"state"`
	Received int    `json:"received"`
}

// Paths returns every path the router holds from its neighbours, in both
// families, sorted by prefix and neighbour.
func (r *Router) Paths(ctx context.Context) ([]Path, error) {
	var out []Path
	var derr error
	for _, n := range r.cfg.Neighbors {
		for _, f := range families() {
			err := r.srv.ListPath(ctx, &api.ListPathRequest{TableType: api.TableType_ADJ_IN, Name: n.String(), Family: f},
				func(d *api.Destination) {
					for _, p := range d.Paths {
						path, err := decode(n, p)
						if err != nil {
							derr = err
							continue
						}
						out = append(out, path)
					}
				})
			// A neighbour that never came up has no table yet.
			if err != nil && !strings.Contains(err.Error(), "not found") {
				return nil, fmt.Errorf("list paths from %s: %w", n, err)
			}
		}
	}
	slices.SortFunc(out, func(a, b Path) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return a.Neighbor.Compare(b.Neighbor)
	})
	return out, derr
}

func decode(from netip.Addr, p *api.Path) (Path, error) {
	nlri, err := apiutil.GetNativeNlri(p)
	if err != nil {
		return Path{}, fmt.Errorf("decode a path's NLRI from %s: %w", from, err)
	}
	pfx, err := netip.ParsePrefix(nlri.String())
	if err != nil {
		return Path{}, fmt.Errorf("parse prefix from %s: %w", from, err)
	}
	attrs, err := apiutil.GetNativePathAttributes(p)
	if err != nil {
		return Path{}, fmt.Errorf("decode attributes of %s from %s: %w", pfx, from, err)
	}
	out := Path{Prefix: pfx, Neighbor: from}
	for _, a := range attrs {
		addAttr(&out, a)
	}
	return out, nil
}

func addAttr(out *Path, a bgp.PathAttributeInterface) {
	switch a := a.(type) {
	case *bgp.PathAttributeNextHop:
		out.NextHop, _ = netip.AddrFromSlice(a.Value)
		out.NextHop = out.NextHop.Unmap()
	case *bgp.PathAttributeMpReachNLRI:
		out.NextHop, _ = netip.AddrFromSlice(a.Nexthop)
		out.NextHop = out.NextHop.Unmap()
	case *bgp.PathAttributeCommunities:
		for _, c := range a.Value {
			out.Communities = append(out.Communities, fmt.Sprintf("%d:%d", c>>16, c&0xffff))
		}
	case *bgp.PathAttributeLargeCommunities:
		for _, c := range a.Values {
			out.LargeCommunities = append(out.LargeCommunities, fmt.Sprintf("%d:%d:%d", c.ASN, c.LocalData1, c.LocalData2))
		}
	case *bgp.PathAttributeLocalPref:
		v := a.Value
		out.LocalPref = &v
	}
}

// Neighbors returns the state of every configured neighbour.
func (r *Router) Neighbors(ctx context.Context) ([]Neighbor, error) {
	var out []Neighbor
	err := r.srv.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		a, _ := netip.ParseAddr(p.GetConf().GetNeighborAddress())
		n := Neighbor{Address: a, State: stateName(p.GetState().GetSessionState())}
		for _, af := range p.GetAfiSafis() {
			n.Received += int(af.GetState().GetReceived())
		}
		out = append(out, n)
	})
	if err != nil {
		return nil, fmt.Errorf("list neighbours: %w", err)
	}
	slices.SortFunc(out, func(a, b Neighbor) int { return a.Address.Compare(b.Address) })
	return out, nil
}

func stateName(s api.PeerState_SessionState) string {
	return strings.ToLower(s.String())
}

// Handler serves GET /paths and GET /neighbors as JSON.
func (r *Router) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /paths", func(w http.ResponseWriter, req *http.Request) {
		paths, err := r.Paths(req.Context())
		reply(w, paths, err)
	})
	mux.HandleFunc("GET /neighbors", func(w http.ResponseWriter, req *http.Request) {
		ns, err := r.Neighbors(req.Context())
		reply(w, ns, err)
	})
	return mux
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
