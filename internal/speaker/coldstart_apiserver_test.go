package speaker

import (
	"fmt"
	"testing"

	"github.com/heraldlb/herald/internal/bgp"
)

// A speaker that starts with a BGPPeer whose password is in a Secret hands
// the router the session, with its password, in its very first BGP state:
// a session left out of the first plan would only open a plan later, after
// the Secret's watch had listed it, and every second before the first dial
// is a second of a cold start (issue 18).
func TestFirstBGPStateHasThePassword(t *testing.T) {
	ns := setUp(t)
	setUpBGP(t)
	service(t, ns, "api", "203.0.113.70", nil, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem)
	waitFor(t, "a BGP state", func() (bool, string) {
		_, ok := h.bgp.first()
		return ok, "none yet"
	})
	d, _ := h.bgp.first()
	if len(d.Sessions) != 1 || d.Sessions[0].Password != "s3cret" || len(d.Paths["tor"]) != 1 {
		t.Errorf("first BGP state %s; want session tor with its password and one path", describe(d))
	}
}

func describe(d bgp.Desired) string {
	var names []string
	for _, s := range d.Sessions {
		names = append(names, fmt.Sprintf("%s (password set: %v, %d paths)", s.Name, s.Password != "", len(d.Paths[s.Name])))
	}
	return fmt.Sprintf("%d sessions %v", len(d.Sessions), names)
}
