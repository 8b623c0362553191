package bgp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// TestFailedSessionIsRetried makes GoBGP fail to open one session (its
// listen port is taken) while another opens fine: Set reports ErrApply,
// the adapter's view holds only what is really open, and the next Set
// with the same desired state opens the session once the port is free.
func TestFailedSessionIsRetried(t *testing.T) {
	src := netip.MustParseAddr("127.0.0.6")
	port := freePort(t, src)
	blocker, err := net.Listen("tcp", netip.AddrPortFrom(src, port).String())
	if err != nil {
		t.Fatalf("take the port: %v", err)
	}
	defer blocker.Close()

	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	r.addNeighbor(neighbor{addr: src.String(), asn: nodeASN, dialPort: port})
	h := startSpeaker(t, func(o *Options) { o.ListenPort = int(port) })
	active := r.session("active", "127.0.0.2", withFamilies(IPv4Unicast))
	passive := r.session("passive", src.String(), withFamilies(IPv4Unicast), func(s *Session) { s.Passive, s.PeerPort = true, 0 })
	d := desired(active, passive).
		with("active", path("198.51.100.1/32")).
		with("passive", path("198.51.100.2/32"))

	if err := h.trySet(d); !errors.Is(err, ErrApply) {
		t.Fatalf("Set with the listen port taken: %v, want ErrApply", err)
	}
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2"})
	if st := h.sp.Status(); len(st) != 1 || st[0].Name != "active" {
		t.Errorf("status lists %+v; only the session that opened should be there", st)
	}
	h.wantServers(map[string]contents{
		"active": {neighbors: []string{"127.0.0.1 hold 90s"}, paths: []string{"198.51.100.1/32 nh 0.0.0.0"}},
	}, 2)

	blocker.Close()
	h.set(d)
	wantPaths(t, r, src.String(), map[string]string{"198.51.100.2/32": "nh " + src.String()})
	wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2"})
}

// TestSetWithEndedContext: a Set whose context has ended applies nothing
// and says why, and a later Set works.
func TestSetWithEndedContext(t *testing.T) {
	nowhere := &router{addr: netip.MustParseAddr("127.0.0.1"), port: freePort(t, netip.MustParseAddr("127.0.0.1")), asn: routerASN}
	h := startSpeaker(t)
	d := desired(nowhere.session("tor", "127.0.0.2")).with("tor", path("198.51.100.1/32"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.sp.Set(ctx, d); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context: %v, want context.Canceled", err)
	}
	if st := h.sp.Status(); len(st) != 0 {
		t.Errorf("status after a cancelled Set: %+v", st)
	}
	h.set(d)
	if st := h.sp.Status(); len(st) != 1 {
		t.Errorf("status after Set: %+v", st)
	}
}
