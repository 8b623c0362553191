package ipam

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestHoldersMatchesSortedSlice drives holders and a plain sorted slice with
// the same random adds and removes and checks they always agree.
func TestHoldersMatchesSortedSlice(t *testing.T) {
	keys := []string{"a/x", "b/y", "c/z", "d/w"}
	rng := rand.New(rand.NewPCG(7, 11))
	var h holders
	var want []string
	for step := range 2000 {
		k := keys[rng.IntN(len(keys))]
		if rng.IntN(2) == 0 {
			h = h.add(k)
			if i, ok := slices.BinarySearch(want, k); !ok {
				want = slices.Insert(want, i, k)
			}
		} else {
			h = h.remove(k)
			if i, ok := slices.BinarySearch(want, k); ok {
				want = slices.Delete(want, i, i+1)
			}
		}
		if got := h.list(); !slices.Equal(got, want) || h.len() != len(want) {
			t.Fatalf("step %d: list %v len %d, want %v", step, got, h.len(), want)
		}
		var seen []string
		h.each(func(k string) bool { seen = append(seen, k); return true })
		if !slices.Equal(seen, want) {
			t.Fatalf("step %d: each %v, want %v", step, seen, want)
		}
		if len(want) <= 1 && h.many != nil {
			t.Fatalf("step %d: %d holders kept in a slice", step, len(want))
		}
	}
}
