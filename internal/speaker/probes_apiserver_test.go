package speaker

import (
	"testing"
)

// The readiness probe says memberlist is not joined while another speaker
// has a Lease and no member answers, and passes once one does (issue 16.9).
func TestReadyCheckNamesMemberlist(t *testing.T) {
	ns := setUp(t)
	service(t, ns, "a", "198.51.100.64", nil, "node1")
	renewed(t, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1)...)
	h := start(t, "node1", mem)
	waitFor(t, "readiness failing on memberlist", func() (bool, string) {
		err := h.sp.ReadyCheck(nil)
		return err != nil && err.Error() == "memberlist: not joined, 1 other speakers have Leases", errString(err)
	})
	if err := h.sp.LiveCheck(nil); err != nil {
		t.Errorf("LiveCheck = %v", err)
	}
	mem.set(members(t, 1, 2)...)
	h.waitApplied(mineOf("node1", []string{"node1", "node2"}, "198.51.100.64"))
	waitFor(t, "readiness passing", func() (bool, string) {
		err := h.sp.ReadyCheck(nil)
		return err == nil, errString(err)
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
