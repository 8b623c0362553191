package liveness

import (
	"net"
	"net/netip"
)

// BindAddrFor returns where memberlist listens when no bind address is
// given: the unspecified address of the advertised family, so that an
// IPv6-only node listens where the others dial it, and "::" too on a host
// with no IPv4 of its own (hostHasIPv4 false), where 0.0.0.0 reaches
// nobody.
func BindAddrFor(advertise netip.Addr, hostHasIPv4 bool) netip.Addr {
	if advertise.Unmap().Is6() || !hostHasIPv4 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// HostHasIPv4 reports whether any interface of this host has an IPv4
// address other than loopback. It reports true when it cannot tell, since
// IPv4 was the default before.
func HostHasIPv4() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
			return true
		}
	}
	return false
}
