package bgp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// grFamilies lists the families for which a neighbour advertises graceful
// restart.
func grFamilies(p *api.Peer) []string {
	var out []string
	for _, a := range p.AfiSafis {
		if a.MpGracefulRestart.GetConfig().GetEnabled() {
			out = append(out, a.Config.Family.Afi.String())
		}
	}
	return out
}

func TestPeerConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		p := peerConfig(validSession("tor"))
		if got := p.Timers.Config; got.ConnectRetry != 5 || got.HoldTime != 0 || got.KeepaliveInterval != 0 {
			t.Errorf("timers %+v, want connect retry 5s and GoBGP's hold and keepalive", got)
		}
		if p.GracefulRestart != nil || len(grFamilies(p)) != 0 {
			t.Errorf("graceful restart without asking: %+v", p.GracefulRestart)
		}
		if p.Transport.PassiveMode || p.Transport.LocalAddress != "" || p.Transport.RemotePort != 0 {
			t.Errorf("transport %+v", p.Transport)
		}
		if p.EbgpMultihop != nil {
			t.Errorf("multihop without asking: %+v", p.EbgpMultihop)
		}
	})
	t.Run("everything set", func(t *testing.T) {
		s := validSession("tor", withPassword("s3cret"), withHoldTime(9*time.Second), func(s *Session) {
			s.KeepaliveTime, s.ConnectTime = 3*time.Second, 2*time.Second
			s.PeerPort, s.SourceAddress = 1790, netip.MustParseAddr("203.0.113.2")
			s.EBGPMultiHop, s.Passive = true, true
		})
		p := peerConfig(s)
		type flat struct {
			Addr, Password, Description, Local string
			PeerASN, LocalASN                  uint32
			Hold, Keepalive, Connect           uint64
			Passive, Multihop                  bool
			Port, TTL                          uint32
		}
		got := flat{
			p.Conf.NeighborAddress, p.Conf.AuthPassword, p.Conf.Description, p.Transport.LocalAddress,
			p.Conf.PeerAsn, p.Conf.LocalAsn,
			p.Timers.Config.HoldTime, p.Timers.Config.KeepaliveInterval, p.Timers.Config.ConnectRetry,
			p.Transport.PassiveMode, p.EbgpMultihop.GetEnabled(),
			p.Transport.RemotePort, p.EbgpMultihop.GetMultihopTtl(),
		}
		want := flat{"203.0.113.1", "s3cret", "tor", "203.0.113.2", routerASN, nodeASN, 9, 3, 2, true, true, 1790, 255}
		if got != want {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("graceful restart for exactly the session's families", func(t *testing.T) {
		for _, fams := range [][]Family{{IPv4Unicast}, {IPv6Unicast}, {IPv4Unicast, IPv6Unicast}} {
			p := peerConfig(validSession("tor", withGR(), withFamilies(fams...)))
			want := []string{}
			for _, f := range fams {
				want = append(want, apiFamily(f).Afi.String())
			}
			if fmt.Sprint(grFamilies(p)) != fmt.Sprint(want) || len(p.AfiSafis) != len(fams) {
				t.Errorf("families %v: graceful restart for %v of %d families", fams, grFamilies(p), len(p.AfiSafis))
			}
			gr := p.GracefulRestart
			if !gr.Enabled || !gr.LocalRestarting || gr.NotificationEnabled || gr.DeferralTime != grDeferralTime || gr.HelperOnly || gr.LonglivedEnabled {
				t.Errorf("graceful restart settings %+v", gr)
			}
		}
	})
	t.Run("dynamic ASN", func(t *testing.T) {
		internal := peerConfig(validSession("tor", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNInternal }))
		external := peerConfig(validSession("tor", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNExternal }))
		if internal.Conf.PeerAsn != nodeASN || external.Conf.PeerAsn != 0 {
			t.Errorf("peer ASN %d (internal), %d (external); want %d, 0 (any)", internal.Conf.PeerAsn, external.Conf.PeerAsn, nodeASN)
		}
	})
}

// TestGlobalConfigListens checks that only a passive session's server
// listens, only on its source address, whatever Options.ListenPort says.
func TestGlobalConfigListens(t *testing.T) {
	active := globalConfig(validSession("tor"), 1790)
	if active.ListenPort != -1 || len(active.ListenAddresses) != 0 {
		t.Errorf("an active session's server listens: port %d on %v", active.ListenPort, active.ListenAddresses)
	}
	passive := globalConfig(validSession("tor", func(s *Session) { s.Passive, s.SourceAddress = true, netip.MustParseAddr("203.0.113.2") }), 1790)
	if passive.ListenPort != 1790 || fmt.Sprint(passive.ListenAddresses) != "[203.0.113.2]" {
		t.Errorf("a passive session's server listens on port %d at %v, want 1790 at [203.0.113.2]", passive.ListenPort, passive.ListenAddresses)
	}
	if active.Asn != nodeASN || active.RouterId != "198.51.100.1" {
		t.Errorf("ASN %d, router ID %s", active.Asn, active.RouterId)
	}
}

// TestAPIPath encodes paths and decodes them the way a router would.
func TestAPIPath(t *testing.T) {
	ebgp := validSession("tor")
	ibgp := validSession("tor", withASNs(nodeASN, nodeASN), withNextHops("198.51.100.2", ""))
	all := []func(*Path){comms(community(64512, 1)), large(LargeCommunity{1, 2, 3}), localPref(300)}
	tests := []struct {
		s    Session
		p    Path
		want string
	}{
		{ebgp, path("198.51.100.10/32", all...), "198.51.100.10/32 nh 0.0.0.0 comm 64512:1 large [{1 2 3}]"},
		{ibgp, path("198.51.100.10/32", all...), "198.51.100.10/32 nh 198.51.100.2 comm 64512:1 large [{1 2 3}] lp 300"},
		{ebgp, path("2001:db8:1::/64"), "2001:db8:1::/64 nh 2001:db8::1"},
		{validSession("tor", func(s *Session) { s.NextHop6 = netip.Addr{} }), path("2001:db8:1::/64"), "2001:db8:1::/64 nh ::"},
	}
	for _, tc := range tests {
		ap, err := apiPath(tc.s, tc.p, time.Unix(0, 0))
		if err != nil {
			t.Fatalf("%s: %v", tc.p.Prefix, err)
		}
		pfx, got := decodeReceived(t, ap)
		if s := pfx.String() + " " + got.String(); s != tc.want {
			t.Errorf("got  %s\nwant %s", s, tc.want)
		}
	}
}
