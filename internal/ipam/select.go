package ipam

import "slices"

// candidates returns the auto-assign pools the Service of req may get a new
// address from (see Pool.ClosedTo), in the order they are tried: pools
// pinned to it first, then by priority (set before unset, lower first), then
// by name.
func (a *Allocator) candidates(req Request) []*poolState {
	var out []*poolState
	for _, p := range a.pools {
		if p.AutoAssign && p.ClosedTo(req) == nil {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, comparePools)
	return out
}
