package layer2

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mdlayher/ethernet"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSetFollowsTheLink: a name that comes to stand for another link (a new
// index) or another MAC (a bond's failover) gets new listeners at the next
// Set with the same pairs, a whole burst naming the MAC the link has now,
// and answers from it; the old sockets are closed and send nothing more,
// and the series of the interface go on counting.
func TestSetFollowsTheLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   link
	}{
		{"another MAC under the same index", link{index: 1, mac: otherMAC}},
		{"another index with the same MAC", link{index: 2, mac: ourMAC}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics()
			a := startTestAnnouncer(t, Options{Metrics: m, BurstCount: 2})
			both := pairs(vip4, "eth0", vip6, "eth0")
			mustSet(t, a.Announcer, both)
			old := []*fakeConn{a.net.conn(t, "eth0", protoARP), a.net.conn(t, "eth0", protoNDP)}

			a.net.move("eth0", tc.to)
			mustSet(t, a.Announcer, both)
			wantApplied(t, a.Announcer, both)
			arp0, ndp0 := a.net.conn(t, "eth0", protoARP), a.net.conn(t, "eth0", protoNDP)
			for _, p := range []protocol{protoARP, protoNDP} {
				if n := a.net.openCount("eth0", p); n != 2 {
					t.Fatalf("%s opened %d times, want 2", p, n)
				}
			}
			for round := 1; round <= 2; round++ {
				if round == 2 {
					a.waitTimer(t)
					a.clock.Step(DefaultBurstInterval)
				}
				wantAnnounced(t, arp0.next(t), tc.to.mac)
				wantAnnounced(t, ndp0.next(t), tc.to.mac)
			}
			for _, c := range old {
				if !c.isClosed() {
					t.Fatal("a listener on the old link is still open")
				}
			}
			arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast))
			if p := parseARPFrame(t, arp0.next(t).frame); !bytes.Equal(p.arp.SenderHardwareAddr, tc.to.mac) || !bytes.Equal(p.eth.Source, tc.to.mac) {
				t.Fatalf("the reply names %s from %s, want %s", p.arp.SenderHardwareAddr, p.eth.Source, tc.to.mac)
			}
			// Two rounds before the move had only their first sent; the
			// series was kept, so it holds one more than the new burst.
			for _, p := range []string{"arp", "ndp"} {
				if got := testutil.ToFloat64(m.Gratuitous.WithLabelValues("eth0", p)); got != 3 {
					t.Errorf("%s gratuitous on eth0 = %v, want 3", p, got)
				}
			}
		})
	}
}

// wantAnnounced checks that w is a gratuitous ARP or unsolicited NA naming
// mac, sent from mac.
func wantAnnounced(t *testing.T, w written, mac []byte) {
	t.Helper()
	var f ethernet.Frame
	if err := f.UnmarshalBinary(w.frame); err != nil {
		t.Fatal(err)
	}
	var owner []byte
	switch f.EtherType {
	case ethernet.EtherTypeARP:
		owner = parseARPFrame(t, w.frame).arp.SenderHardwareAddr
	case ethernet.EtherTypeIPv6:
		owner = parseNAFrame(t, w.frame).tlla
	}
	if !bytes.Equal(owner, mac) || !bytes.Equal(f.Source, mac) {
		t.Fatalf("announcement names %x from %s, want %x", owner, f.Source, mac)
	}
}

// TestSetWithLinksUnknown: when the links cannot be read, Set says so and
// keeps every listener, since it cannot tell whether any moved; the next
// Set that can read them repairs a move.
func TestSetWithLinksUnknown(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	both := pairs(vip4, "eth0", vip6, "eth0")
	mustSet(t, a.Announcer, both)
	a.net.move("eth0", link{index: 1, mac: otherMAC})
	a.net.mu.Lock()
	a.net.linksErr = errInjected
	a.net.mu.Unlock()

	if err := a.Set(both); !errors.Is(err, errInjected) {
		t.Fatalf("Set = %v, want the lookup error", err)
	}
	wantApplied(t, a.Announcer, both)
	if n := a.net.openCount("eth0", protoARP); n != 1 {
		t.Fatalf("ARP opened %d times, want 1: nothing is known to have moved", n)
	}

	a.net.mu.Lock()
	a.net.linksErr = nil
	a.net.mu.Unlock()
	mustSet(t, a.Announcer, both)
	if n := a.net.openCount("eth0", protoARP); n != 2 {
		t.Fatalf("ARP opened %d times, want 2 once the move is seen", n)
	}
	wantAnnounced(t, a.net.conn(t, "eth0", protoARP).next(t), otherMAC)
}

// TestSetDropsListenerOfGoneLink: a wanted name that no longer names any
// link loses its listeners, and Set says why; the pairs come back when the
// link does.
func TestSetDropsListenerOfGoneLink(t *testing.T) {
	a := startTestAnnouncer(t, Options{BurstCount: 1})
	desired := pairs(vip4, "eth0", vip4, "eth1")
	mustSet(t, a.Announcer, desired)
	a.net.mu.Lock()
	a.net.gone["eth1"] = true
	a.net.mu.Unlock()

	if err := a.Set(desired); !errors.Is(err, errInjected) {
		t.Fatalf("Set = %v, want the open error of eth1", err)
	}
	wantApplied(t, a.Announcer, pairs(vip4, "eth0"))

	a.net.mu.Lock()
	delete(a.net.gone, "eth1")
	a.net.mu.Unlock()
	mustSet(t, a.Announcer, desired)
	wantApplied(t, a.Announcer, desired)
}
