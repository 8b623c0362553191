package bgp

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// Defaults and fixed settings.
const (
	defaultHoldTime    = 90 * time.Second
	defaultConnectTime = 5 * time.Second
	// grDeferralTime bounds, in seconds, how long a session with graceful
	// restart waits for the router's End-of-RIB before advertising. See
	// the package doc.
	grDeferralTime = 10
	// noListener is GoBGP's ListenPort for "do not listen".
	noListener = -1
)

// globalConfig is the configuration of the GoBGP server that carries s.
// Only a passive session listens, and only on its own source address.
func globalConfig(s Session, listenPort int) *api.Global {
	g := &api.Global{
		Asn:        s.MyASN,
		RouterId:   s.RouterID.String(),
		ListenPort: noListener,
		// Indexes into GoBGP's AFI-SAFI table: IPv4 and IPv6 unicast.
		Families: []uint32{0, 1},
	}
	if s.Passive {
		g.ListenPort = int32(listenPort)
		g.ListenAddresses = []string{s.SourceAddress.String()}
	}
	return g
}

func apiFamily(f Family) *api.Family {
	if f == IPv4Unicast {
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
}

func familyFromRF(rf bgp.RouteFamily) (Family, bool) {
	switch rf {
	case bgp.RF_IPv4_UC:
		return IPv4Unicast, true
	case bgp.RF_IPv6_UC:
		return IPv6Unicast, true
	}
	return 0, false
}

// peerConfig is the GoBGP neighbour of s.
//
// Graceful restart is advertised for exactly the session's families, with
// the Restart State and Forwarding State bits set (GoBGP's
// LocalRestarting), so that a router keeps our routes across a speaker
// restart until our End-of-RIB. The N bit (RFC 8538) is not set: a
// NOTIFICATION, as sent when Run ends, then withdraws everything at once.
func peerConfig(s Session) *api.Peer {
	connect := s.ConnectTime
	if connect == 0 {
		connect = defaultConnectTime
	}
	p := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: s.PeerAddress.String(),
			LocalAsn:        s.MyASN,
			PeerAsn:         s.PeerASN,
			AuthPassword:    s.Password,
			Description:     s.Name,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime:          uint64(s.HoldTime / time.Second),
			KeepaliveInterval: uint64(s.KeepaliveTime / time.Second),
			ConnectRetry:      uint64(connect / time.Second),
		}},
		Transport: &api.Transport{
			RemotePort:  uint32(s.PeerPort),
			PassiveMode: s.Passive,
		},
	}
	if s.DynamicASN == DynamicASNInternal {
		p.Conf.PeerAsn = s.MyASN
	}
	if s.SourceAddress.IsValid() {
		p.Transport.LocalAddress = s.SourceAddress.String()
	}
	if s.EBGPMultiHop {
		p.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: 255}
	}
	if s.GracefulRestart {
		p.GracefulRestart = &api.GracefulRestart{
			Enabled:         true,
			DeferralTime:    grDeferralTime,
			LocalRestarting: true,
		}
	}
	for _, f := range s.Families {
		a := &api.AfiSafi{Config: &api.AfiSafiConfig{Family: apiFamily(f), Enabled: true}}
		if s.GracefulRestart {
			a.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		p.AfiSafis = append(p.AfiSafis, a)
	}
	return p
}

// apiPath is p as GoBGP's API takes it, for the session s. p is
// normalized: its family is one s carries, and a next hop exists for it.
// A zero next hop lets GoBGP use the session's local address.
func apiPath(s Session, p Path, now time.Time) (*api.Path, error) {
	addr, bits := p.Prefix.Addr(), uint8(p.Prefix.Bits())
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	var nlri bgp.AddrPrefixInterface
	if addr.Is4() {
		nlri = bgp.NewIPAddrPrefix(bits, addr.String())
		attrs = append(attrs, bgp.NewPathAttributeNextHop(orUnspecified(s.NextHop4, netip.IPv4Unspecified()).String()))
	} else {
		nlri = bgp.NewIPv6AddrPrefix(bits, addr.String())
		attrs = append(attrs, bgp.NewPathAttributeMpReachNLRI(orUnspecified(s.NextHop6, netip.IPv6Unspecified()).String(), []bgp.AddrPrefixInterface{nlri}))
	}
	if len(p.Communities) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(slices.Clone(p.Communities)))
	}
	if len(p.LargeCommunities) > 0 {
		lcs := make([]*bgp.LargeCommunity, 0, len(p.LargeCommunities))
		for _, c := range p.LargeCommunities {
			lcs = append(lcs, bgp.NewLargeCommunity(c.Global, c.Local1, c.Local2))
		}
		attrs = append(attrs, bgp.NewPathAttributeLargeCommunities(lcs))
	}
	if p.LocalPref != nil && s.ibgp() {
		attrs = append(attrs, bgp.NewPathAttributeLocalPref(*p.LocalPref))
	}
	ap, err := apiutil.NewPath(nlri, false, attrs, now)
	if err != nil {
		return nil, fmt.Errorf("encode path %s: %w", p.Prefix, err)
	}
	return ap, nil
}

func orUnspecified(a, unspecified netip.Addr) netip.Addr {
	if a.IsValid() {
		return a
	}
	return unspecified
}
