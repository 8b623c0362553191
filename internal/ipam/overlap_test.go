package ipam

import (
	"slices"
	"testing"
)

func TestFindOverlaps(t *testing.T) {
	a := newPool("a", "198.51.100.0/24")
	b := newPool("b", "198.51.100.200-198.51.101.10")
	c := newPool("c", "198.51.101.0/24")
	d := newPool("d", "2001:db8::/64")
	e := newPool("e", "2001:db8::ffff:0:0:0/80")
	if !Overlaps(a, b) || Overlaps(a, c) || Overlaps(a, d) {
		t.Errorf("Overlaps wrong")
	}
	got := FindOverlaps([]Pool{a, b, c, d, e})
	// b overlaps a and is rejected; c overlaps only b, so c is kept.
	want := []Overlap{{Pool: "b", Older: "a"}, {Pool: "e", Older: "d"}}
	if !slices.Equal(got, want) {
		t.Errorf("FindOverlaps = %v, want %v", got, want)
	}
}
