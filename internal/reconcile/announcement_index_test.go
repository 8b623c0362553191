package reconcile

import (
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
)

func TestNodeIndexRebuiltOnlyOnChange(t *testing.T) {
	at := func(name, rv string) v1beta1.HeraldNode {
		n := hn.New(name)
		n.ResourceVersion = rv
		return n
	}
	var c nodeIndex
	first := c.of([]v1beta1.HeraldNode{at("node1", "1"), at("node2", "2")})
	if c.of([]v1beta1.HeraldNode{at("node2", "2"), at("node1", "1")}) != first {
		t.Error("the same HeraldNodes listed in another order were indexed again")
	}
	prev := first
	for _, nodes := range [][]v1beta1.HeraldNode{
		{at("node1", "1"), at("node2", "3")},
		{at("node1", "1")},
		{at("node1", "1"), at("node3", "4")},
	} {
		next := c.of(nodes)
		if next == prev {
			t.Errorf("%v: the index of the HeraldNodes before was kept", nodes)
		}
		prev = next
	}
}
