package layer2

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

// burstCount and burstInterval make the root tests' bursts short and
// countable.
const (
	burstCount    = 3
	burstInterval = 50 * time.Millisecond
)

// TestRealLinkIdentity changes what the speaker's interface name stands for
// under a running Announcer: first its MAC, as an active-backup bond's
// changes at failover with fail_over_mac=active, then the whole link,
// re-created under the same name with a new index. The next Set with the
// same pairs must answer, and send a whole burst, with the link as it is
// now (issue 16, defect 5).
func TestRealLinkIdentity(t *testing.T) {
	needRoot(t, "arping", "ndisc6")
	l := newVethLab(t, "id")
	capt := l.capture(t)
	setAgain := l.startAnnouncer(t, pairs(vip4, speakerIface, vip6, speakerIface))
	setAgain(t)
	l.wantAnswering(t, capt)

	// Set looks links up on the calling thread's namespace, by name; one
	// found elsewhere, or none, would reopen the listeners at every Set.
	t.Run("links are looked up where Set runs", func(t *testing.T) {
		l.inNetns(t, l.speaker, func() error {
			ifi, err := net.InterfaceByName(speakerIface)
			if err != nil {
				return err
			}
			got, err := hostNetwork{}.links([]string{speakerIface, "hl2-none"})
			if err != nil {
				return err
			}
			if want := (link{index: ifi.Index, mac: ifi.HardwareAddr}); len(got) != 1 || !got[speakerIface].same(want) {
				return fmt.Errorf("links = %v, want only %s as %v", got, speakerIface, want)
			}
			return nil
		})
	})
	t.Run("the MAC changes", func(t *testing.T) {
		l.speakerMAC = mustMAC("02:00:00:00:00:42")
		ip(t, "-n", l.speaker, "link", "set", "dev", speakerIface, "address", l.speakerMAC.String())
		setAgain(t)
		l.wantAnswering(t, capt)
	})
	t.Run("the link is re-created with the same MAC", func(t *testing.T) {
		index := func() int {
			var i int
			l.inNetns(t, l.speaker, func() error {
				ifi, err := net.InterfaceByName(speakerIface)
				if err == nil {
					i = ifi.Index
				}
				return err
			})
			return i
		}
		old, mac := index(), l.speakerMAC
		ip(t, "-n", l.speaker, "link", "del", speakerIface)
		l.addVeth(t)
		ip(t, "-n", l.speaker, "link", "set", "dev", speakerIface, "address", mac.String())
		l.speakerMAC = mac
		if index() == old {
			t.Fatalf("the re-created %s has its old index %d", speakerIface, old)
		}
		capt := l.capture(t) // the old one listened on the deleted peer
		setAgain(t)
		l.wantAnswering(t, capt)
	})
}

// startAnnouncer runs an Announcer with short bursts, and returns a
// function that sets desired on it in the speaker's namespace and checks
// that all of it is in effect.
func (l vethLab) startAnnouncer(t *testing.T, desired []Announcement) func(*testing.T) {
	t.Helper()
	a := New(Options{Log: testr.NewWithOptions(t, testr.Options{Verbosity: 1}), BurstCount: burstCount, BurstInterval: burstInterval})
	runInBackground(t, a.Run)
	return func(t *testing.T) {
		t.Helper()
		var err error
		l.inNetns(t, l.speaker, func() error { err = a.Set(desired); return nil })
		if err != nil {
			t.Fatal(err)
		}
		wantApplied(t, a, desired)
	}
}

// wantAnswering waits for a whole burst for vip4 and vip6 naming the
// speaker's MAC, sent from it, and checks that arping and ndisc6 get
// answers naming it.
func (l vethLab) wantAnswering(t *testing.T, c *capture) {
	t.Helper()
	mac := l.speakerMAC
	c.waitEach(t, burstCount,
		frameMatch{"gratuitous ARP for " + vip4.String() + " naming " + mac.String(), isGratuitousARP(vip4, mac, mac)},
		frameMatch{"unsolicited NA for " + vip6.String() + " naming " + mac.String(), isUnsolicitedNA(vip6, mac, mac)},
	)
	l.wantARPReply(t, vip4)
	l.wantNDPReply(t, vip6)
}
