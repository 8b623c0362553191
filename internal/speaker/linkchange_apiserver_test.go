package speaker

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"testing"
)

// TestMACChangeReachesTheAnnouncer: a bond that fails over with
// fail_over_mac=active changes only its MAC. The speaker must replan and
// call Set again with the same announcements, which makes the announcer
// reopen its listeners on the new MAC and burst (issue 16.5), and gossip
// the new MAC, which the other speakers name when they hand an IP over to
// this node.
func TestMACChangeReachesTheAnnouncer(t *testing.T) {
	h, _, want := startWinning(t, "198.51.100.64", "198.51.100.65", "198.51.100.66", "198.51.100.67")
	sets := func() int {
		_, calls := h.ann.history()
		return len(slices.DeleteFunc(calls, func(c string) bool { return c != "set" }))
	}
	before := sets()

	failedOver := net.HardwareAddr{0x02, 0, 0, 0, 0x0b, 0x42}
	links := nodeLinks(1)
	links[1].MAC = failedOver
	h.links.ch <- links
	waitFor(t, "the new MAC in the gossip", func() (bool, string) {
		d, _ := h.mem.state()
		_, macs, err := decodeMeta("node1", d.Meta)
		return err == nil && bytes.Equal(macs["eth0"], failedOver), fmt.Sprintf("MACs %v (%v)", macs, err)
	})
	// The gossip and the Set come from the same replan.
	waitFor(t, "a Set after the MAC change", func() (bool, string) {
		return sets() > before, fmt.Sprintf("%d Sets, %d before", sets(), before)
	})
	h.waitApplied(want)
}
