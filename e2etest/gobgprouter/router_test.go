package gobgprouter

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
	"k8s.io/utils/ptr"
)

// TestRouterReportsReceivedPaths runs the router on loopback, has a GoBGP
// speaker dial it over iBGP and announce one path, and reads the path back
// from the router's JSON.
func TestRouterReportsReceivedPaths(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lo := netip.MustParseAddr("127.0.0.1")
	port := freePort(t)
	r := New(Config{ASN: 64513, PeerASN: 64513, RouterID: netip.MustParseAddr("192.0.2.1"),
		Listen: []netip.Addr{lo}, Port: port, Neighbors: []netip.Addr{lo}, HoldTime: 9 * time.Second})
	done := make(chan error, 1)
	rctx, stop := context.WithCancel(ctx)
	go func() { done <- r.Run(rctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("router: %v", err)
		}
	})
	announce(ctx, t, port)

	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	want := Path{Prefix: netip.MustParsePrefix("203.0.113.65/32"), Neighbor: lo, NextHop: netip.MustParseAddr("198.51.100.11"),
		Communities: []string{"64512:200"}, LocalPref: ptr.To[uint32](150)}
	var got []Path
	for ctx.Err() == nil {
		got = nil
		if err := getJSON(srv.URL+"/paths", &got); err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) != 1 || !equal(got[0], want) {
		t.Fatalf("router's paths %+v, want %+v", got, want)
	}
	var ns []Neighbor
	if err := getJSON(srv.URL+"/neighbors", &ns); err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].State != "established" || ns[0].Received != 1 {
		t.Errorf("router's neighbours %+v, want one established with one prefix", ns)
	}
}

// announce starts a speaker that dials the router at port and announces
// 203.0.113.65/32 with a community and local-pref 150.
func announce(ctx context.Context, t *testing.T, port int32) {
	t.Helper()
	s := server.NewBgpServer()
	go s.Serve()
	t.Cleanup(func() { _ = s.StopBgp(context.Background(), &api.StopBgpRequest{}) })
	if err := s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{Asn: 64513, RouterId: "192.0.2.2", ListenPort: -1}}); err != nil {
		t.Fatal(err)
	}
	err := s.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: "127.0.0.1", PeerAsn: 64513},
		Transport: &api.Transport{RemotePort: uint32(port), LocalAddress: "127.0.0.1"},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: 1}},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: families()[0], Enabled: true}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	path, err := apiutil.NewPath(bgp.NewIPAddrPrefix(32, "203.0.113.65"), false, []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0), bgp.NewPathAttributeNextHop("198.51.100.11"),
		bgp.NewPathAttributeLocalPref(150), bgp.NewPathAttributeCommunities([]uint32{64512<<16 | 200}),
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.AddPath(ctx, &api.AddPathRequest{Path: path})
	if err != nil {
		t.Fatal(err)
	}
}

func equal(a, b Path) bool {
	return a.Prefix == b.Prefix && a.Neighbor == b.Neighbor && a.NextHop == b.NextHop &&
		slices.Equal(a.Communities, b.Communities) && slices.Equal(a.LargeCommunities, b.LargeCommunities) &&
		(a.LocalPref == nil) == (b.LocalPref == nil) && (a.LocalPref == nil || *a.LocalPref == *b.LocalPref)
}

func getJSON(url string, v any) error {
	rsp, err := http.Get(url) //nolint:noctx // a test server
	if err != nil {
		return err
	}
	defer rsp.Body.Close()
	return json.NewDecoder(rsp.Body).Decode(v)
}

func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}
