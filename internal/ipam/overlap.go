package ipam

// Overlaps reports whether pools a and b share an address.
func Overlaps(a, b Pool) bool {
	for _, ra := range a.Ranges {
		for _, rb := range b.Ranges {
			if ra.IsValid() && rb.IsValid() && ra.Overlaps(rb) {
				return true
			}
		}
	}
	return false
}

// Overlap says that Pool overlaps the older pool Older.
type Overlap struct {
	Pool, Older string
}

// FindOverlaps takes pools ordered oldest first and returns, in that order,
// each pool that overlaps an older pool, with the oldest such pool. A pool
// reported here is considered rejected: a later pool that overlaps only
// rejected pools is not reported, so the config layer can keep every pool
// not listed.
func FindOverlaps(pools []Pool) []Overlap {
	var out []Overlap
	var kept []Pool
	for _, p := range pools {
		rejected := false
		for _, k := range kept {
			if Overlaps(p, k) {
				out = append(out, Overlap{Pool: p.Name, Older: k.Name})
				rejected = true
				break
			}
		}
		if !rejected {
			kept = append(kept, p)
		}
	}
	return out
}
