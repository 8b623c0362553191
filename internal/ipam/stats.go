package ipam

import (
	"math/big"
	"slices"
)

// FamilyStats counts the addresses of one family in one pool. Size accounts
// for AvoidBuggyIPs; a shared IP counts once in InUse. InUse+Available ==
// Size always holds. The values are exact, also for an IPv6 /64 or larger.
type FamilyStats struct {
	Size, InUse, Available *big.Int
}

// PoolStats counts the addresses of one pool, per family.
type PoolStats struct {
	Pool       string
	IPv4, IPv6 FamilyStats
}

// Family returns the counts of family f.
func (s PoolStats) Family(f Family) FamilyStats {
	if f == IPv6 {
		return s.IPv6
	}
	return s.IPv4
}

func (p *poolState) familyStats(f Family) FamilyStats {
	i := f.index()
	inUse := big.NewInt(p.inUse[i])
	return FamilyStats{
		Size:      new(big.Int).Set(p.size[i]),
		InUse:     inUse,
		Available: new(big.Int).Sub(p.size[i], inUse),
	}
}

func (p *poolState) stats() PoolStats {
	return PoolStats{Pool: p.Name, IPv4: p.familyStats(IPv4), IPv6: p.familyStats(IPv6)}
}

// Stats returns the counts of every pool, sorted by pool name. An IP held
// by a Service counts as in use in every pool that contains it.
func (a *Allocator) Stats() []PoolStats {
	out := make([]PoolStats, 0, len(a.pools))
	for _, p := range a.pools {
		out = append(out, p.stats())
	}
	return slices.Clip(out)
}

// PoolStats returns the counts of the named pool.
func (a *Allocator) PoolStats(name string) (PoolStats, bool) {
	p := a.byName[name]
	if p == nil {
		return PoolStats{}, false
	}
	return p.stats(), true
}
