package election

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"net/netip"
	"slices"
)

// score is a candidate's rendezvous hash for ip. sha256 rather than a faster
// hash: scores must be identical on every speaker and every architecture,
// and well spread even for node names that differ in one character.
func score(node string, ip netip.Addr) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(node))
	h.Write([]byte{0})
	b := ip.As16()
	h.Write(b[:])
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Rank returns the candidates for ip in order of preference: the first one
// announces, the next one takes over if it goes. Duplicates are dropped.
// Ties (equal hashes, which sha256 makes practically impossible) go to the
// smaller name, so the order is total.
func Rank(ip netip.Addr, candidates []string) []string {
	type scored struct {
		node  string
		score [sha256.Size]byte
	}
	s := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		s = append(s, scored{c, score(c, ip)})
	}
	slices.SortFunc(s, func(a, b scored) int {
		return cmp.Or(-bytes.Compare(a.score[:], b.score[:]), cmp.Compare(a.node, b.node))
	})
	out := make([]string, 0, len(s))
	for i, c := range s {
		if i > 0 && c.node == s[i-1].node {
			continue
		}
		out = append(out, c.node)
	}
	return out
}

// Winner returns the candidate that announces ip, and false when there is
// none.
func Winner(ip netip.Addr, candidates []string) (string, bool) {
	var best string
	var bestScore [sha256.Size]byte
	for _, c := range candidates {
		sc := score(c, ip)
		if best == "" || bytes.Compare(sc[:], bestScore[:]) > 0 ||
			bytes.Equal(sc[:], bestScore[:]) && c < best {
			best, bestScore = c, sc
		}
	}
	return best, best != ""
}
