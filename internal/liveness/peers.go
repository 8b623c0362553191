package liveness

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// ErrInvalidPeer is Set's error for a peer address that is not a usable
// IP and port.
var ErrInvalidPeer = errors.New("invalid peer address")

// normalizePeers validates peers and returns them unmapped, sorted, without
// duplicates and without self.
func normalizePeers(peers []netip.AddrPort, self netip.AddrPort) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(peers))
	for _, p := range peers {
		if !p.IsValid() || p.Addr().IsUnspecified() || p.Port() == 0 {
			return nil, fmt.Errorf("check peer %q: %w", p, ErrInvalidPeer)
		}
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if p == self {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out), nil
}

// missingPeers returns the peers that no alive member answers at: the ones
// to join. Membership is matched by address, because the shell knows peers
// by the address their Lease publishes, not by name.
func missingPeers(peers []netip.AddrPort, members []Member) []netip.AddrPort {
	alive := make(map[netip.AddrPort]bool, len(members))
	for _, m := range members {
		alive[m.Addr] = true
	}
	var out []netip.AddrPort
	for _, p := range peers {
		if !alive[p] {
			out = append(out, p)
		}
	}
	return out
}

// pickJoins returns the peers of missing that one rejoin round starts
// joining: those not already being joined or pushed to (inflight), at most
// limit minus the joins still in flight (joining), chosen by shuffle
// (rand.Shuffle's signature, injected so that tests pin it).
func pickJoins(missing []netip.AddrPort, inflight map[netip.AddrPort]bool, joining, limit int, shuffle func(n int, swap func(i, j int))) []netip.AddrPort {
	var out []netip.AddrPort
	for _, p := range missing {
		if !inflight[p] {
			out = append(out, p)
		}
	}
	budget := max(0, limit-joining)
	if len(out) <= budget {
		return out
	}
	shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:budget]
}
