package layer2

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/net/ipv6"
)

// TestRealAnnouncer runs the Announcer on real sockets in the speaker's
// namespace and asks it questions with arping, ndisc6 and the client's own
// kernel.
func TestRealAnnouncer(t *testing.T) {
	needRoot(t, "arping", "ndisc6")
	l := newVethLab(t, "ann")
	// The client probes a stale neighbour after one second, not five.
	l.exec(t, l.client, "sysctl", "-qw", "net.ipv6.neigh."+clientIface+".delay_first_probe_time=1")
	capt := l.capture(t)
	m := NewMetrics()
	a := New(Options{Log: testr.NewWithOptions(t, testr.Options{Verbosity: 1}), Metrics: m})
	runInBackground(t, a.Run)
	set := func(desired []Announcement) error {
		var err error
		l.inNetns(t, l.speaker, func() error { err = a.Set(desired); return nil })
		return err
	}
	ignored := func(p string) float64 { return testutil.ToFloat64(m.Ignored.WithLabelValues(speakerIface, p)) }
	requests := func(p string) float64 { return testutil.ToFloat64(m.Requests.WithLabelValues(speakerIface, p)) }

	if err := set(pairs(vip4, speakerIface, vip6, speakerIface)); err != nil {
		t.Fatal(err)
	}
	capt.waitFrame(t, "gratuitous ARP for "+vip4.String(), isGratuitousARP(vip4, l.speakerMAC, l.speakerMAC))
	capt.waitFrame(t, "unsolicited NA for "+vip6.String(), isUnsolicitedNA(vip6, l.speakerMAC, l.speakerMAC))

	t.Run("arping", func(t *testing.T) {
		l.wantARPReply(t, vip4)
		l.wantNoARPReply(t, vip4b, func() bool { return ignored("arp") >= 1 })
	})
	t.Run("ndisc6", func(t *testing.T) {
		l.wantNDPReply(t, vip6)
		l.wantNoNDPReply(t, vip6b, func() bool { return ignored("ndp") >= 1 })
	})
	// metallb#2920: a stale entry is confirmed by a unicast NS to the IP
	// itself, which only a packet socket sees.
	t.Run("neighbour unreachability detection", func(t *testing.T) {
		before := requests("ndp")
		ip(t, "-n", l.client, "neigh", "replace", vip6.String(), "lladdr", l.speakerMAC.String(), "dev", clientIface, "nud", "stale")
		l.inNetns(t, l.client, func() error {
			c, err := net.DialUDP("udp6", nil, &net.UDPAddr{IP: vip6.AsSlice(), Port: 9})
			if err != nil {
				return err
			}
			_, err = c.Write([]byte("wake the neighbour entry"))
			return errors.Join(err, c.Close())
		})
		waitUntil(t, "the client's entry for "+vip6.String()+" is REACHABLE", func() bool {
			out, _ := l.try(l.client, "ip", "-6", "neigh", "show", vip6.String(), "dev", clientIface)
			return strings.Contains(out, "REACHABLE")
		})
		if requests("ndp") <= before {
			t.Fatal("the entry became reachable without a solicitation reaching the Announcer")
		}
	})
	t.Run("a removed pair is no longer answered", func(t *testing.T) {
		if err := set(pairs(vip4b, speakerIface, vip6, speakerIface)); err != nil {
			t.Fatal(err)
		}
		l.wantARPReply(t, vip4b)
		before := ignored("arp")
		l.wantNoARPReply(t, vip4, func() bool { return ignored("arp") > before })
	})
	// The client's kernel must move an entry it has just confirmed, which
	// it does within the one-second locktime only for a gratuitous ARP in
	// request form and for an NA with Override set.
	t.Run("handover", func(t *testing.T) {
		if err := set(nil); err != nil {
			t.Fatal(err)
		}
		for _, vip := range []netip.Addr{vip4, vip6} {
			ip(t, "-n", l.client, "neigh", "replace", vip.String(), "lladdr", l.speakerMAC.String(), "dev", clientIface, "nud", "reachable")
		}
		var err error
		l.inNetns(t, l.speaker, func() error {
			err = a.Announce([]Gratuitous{
				{IP: vip4, Interface: speakerIface, MAC: otherMAC},
				{IP: vip6, Interface: speakerIface, MAC: otherMAC},
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		capt.waitFrame(t, "handover ARP naming "+otherMAC.String(), isGratuitousARP(vip4, otherMAC, l.speakerMAC))
		capt.waitFrame(t, "handover NA naming "+otherMAC.String(), isUnsolicitedNA(vip6, otherMAC, l.speakerMAC))
		for _, vip := range []netip.Addr{vip4, vip6} {
			waitUntil(t, "the client's entry for "+vip.String()+" names "+otherMAC.String(), func() bool {
				out, _ := l.try(l.client, "ip", "neigh", "show", vip.String(), "dev", clientIface)
				return strings.Contains(out, otherMAC.String())
			})
		}
	})
	// A link that goes down makes the socket fail: the listener closes,
	// Applied says so, and a later Set opens a new one.
	t.Run("link down", func(t *testing.T) {
		both := pairs(vip4, speakerIface, vip6, speakerIface)
		if err := set(both); err != nil {
			t.Fatal(err)
		}
		wantApplied(t, a, both)
		ip(t, "-n", l.speaker, "link", "set", speakerIface, "down")
		waitUntil(t, "Applied is empty", func() bool { return len(a.Applied()) == 0 })
		for _, p := range []string{"arp", "ndp"} {
			if testutil.ToFloat64(m.Errors.WithLabelValues(speakerIface, p)) == 0 {
				t.Errorf("no %s socket error was counted", p)
			}
		}
		ip(t, "-n", l.speaker, "link", "set", speakerIface, "up")
		// The shell would retry a failing Set the same way.
		waitUntil(t, "Set succeeds again", func() bool { return set(both) == nil })
		wantApplied(t, a, both)
		l.wantARPReply(t, vip4)
		l.wantNDPReply(t, vip6)
	})
}

func (l vethLab) wantARPReply(t *testing.T, ip netip.Addr) {
	t.Helper()
	out := l.exec(t, l.client, "arping", "-r", "-c", "1", "-w", "2", "-i", l.clientLink, ip.String())
	if mac, err := net.ParseMAC(out); err != nil || !bytes.Equal(mac, l.speakerMAC) {
		t.Fatalf("arping %s answered %q, want %s", ip, out, l.speakerMAC)
	}
}

// wantNoARPReply checks that ip is not answered once seen tells that the
// Announcer saw the request.
func (l vethLab) wantNoARPReply(t *testing.T, ip netip.Addr, seen func() bool) {
	t.Helper()
	if out, err := l.try(l.client, "arping", "-r", "-c", "1", "-w", "1", "-i", l.clientLink, ip.String()); err == nil || out != "" {
		t.Fatalf("arping %s answered %q (%v), want no answer", ip, out, err)
	}
	waitUntil(t, "the Announcer counts the request for "+ip.String()+" as ignored", seen)
}

func (l vethLab) wantNDPReply(t *testing.T, ip netip.Addr) {
	t.Helper()
	out := l.exec(t, l.client, "ndisc6", "-q", "-1", "-r", "3", "-w", "500", ip.String(), l.clientLink)
	if mac, err := net.ParseMAC(out); err != nil || !bytes.Equal(mac, l.speakerMAC) {
		t.Fatalf("ndisc6 %s answered %q, want %s", ip, out, l.speakerMAC)
	}
}

func (l vethLab) wantNoNDPReply(t *testing.T, ip netip.Addr, seen func() bool) {
	t.Helper()
	if out, err := l.try(l.client, "ndisc6", "-q", "-1", "-r", "1", "-w", "500", ip.String(), l.clientLink); err == nil {
		t.Fatalf("ndisc6 %s answered %q, want no answer", ip, out)
	}
	waitUntil(t, "the Announcer counts the solicitation for "+ip.String()+" as ignored", seen)
}

// isGratuitousARP matches an ARP announcement of ip naming owner, sent from
// the MAC from.
func isGratuitousARP(ip netip.Addr, owner, from net.HardwareAddr) func([]byte) bool {
	return func(b []byte) bool {
		var f ethernet.Frame
		var p arp.Packet
		return f.UnmarshalBinary(b) == nil && f.EtherType == ethernet.EtherTypeARP && p.UnmarshalBinary(f.Payload) == nil &&
			p.Operation == arp.OperationRequest && p.SenderIP == ip && p.TargetIP == ip &&
			bytes.Equal(p.SenderHardwareAddr, owner) && bytes.Equal(f.Source, from) && bytes.Equal(f.Destination, ethernet.Broadcast)
	}
}

// isUnsolicitedNA matches an unsolicited NA to all nodes for ip naming
// owner, sent from the MAC from.
func isUnsolicitedNA(ip netip.Addr, owner, from net.HardwareAddr) func([]byte) bool {
	return func(b []byte) bool {
		var f ethernet.Frame
		if f.UnmarshalBinary(b) != nil || f.EtherType != ethernet.EtherTypeIPv6 || !bytes.Equal(f.Source, from) {
			return false
		}
		h, err := ipv6.ParseHeader(f.Payload)
		if err != nil || h.NextHeader != protocolICMPv6 || !h.Dst.Equal(allNodes.AsSlice()) || 40+h.PayloadLen > len(f.Payload) {
			return false
		}
		m, err := ndp.ParseMessage(f.Payload[40 : 40+h.PayloadLen])
		if err != nil {
			return false
		}
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != ip || !na.Override || na.Solicited {
			return false
		}
		return slices.ContainsFunc(na.Options, func(o ndp.Option) bool {
			lla, ok := o.(*ndp.LinkLayerAddress)
			return ok && lla.Direction == ndp.Target && bytes.Equal(lla.Addr, owner)
		})
	}
}

// TestRealLinkWatcher runs the LinkWatcher in the speaker's namespace and
// changes links and addresses there.
func TestRealLinkWatcher(t *testing.T) {
	needRoot(t)
	l := newVethLab(t, "lw")
	w := NewLinkWatcher(testr.New(t))
	runInBackground(t, func(ctx context.Context) error {
		return <-goInNetns(l.speaker, func() error { return w.Run(ctx) })
	})
	wait := func(what string, ok func(s Link, all map[string]Link) bool) {
		t.Helper()
		deadline := time.After(waitFor)
		for {
			select {
			case links := <-w.Changes():
				all := map[string]Link{}
				for _, k := range links {
					all[k.Name] = k
				}
				if s, found := all[speakerIface]; found && ok(s, all) {
					return
				}
			case <-deadline:
				t.Fatalf("no snapshot where %s", what)
			}
		}
	}
	has := func(s Link, prefix string) bool { return slices.Contains(s.Prefixes, netip.MustParsePrefix(prefix)) }

	wait("hl2s is up with its addresses", func(s Link, all map[string]Link) bool {
		hasLL := slices.ContainsFunc(s.Prefixes, func(p netip.Prefix) bool { return p.Addr().IsLinkLocalUnicast() && p.Bits() == 64 })
		return s.Up && s.Broadcast && !s.Loopback && bytes.Equal(s.MAC, l.speakerMAC) &&
			has(s, "198.51.100.1/24") && has(s, "2001:db8::1/64") && hasLL &&
			all["lo"].Loopback && all["lo"].Up && has(all["lo"], "127.0.0.1/8")
	})
	ip(t, "-n", l.client, "link", "set", clientIface, "down")
	wait("hl2s has no carrier", func(s Link, _ map[string]Link) bool { return !s.Up })
	ip(t, "-n", l.client, "link", "set", clientIface, "up")
	wait("hl2s has carrier again", func(s Link, _ map[string]Link) bool { return s.Up })
	ip(t, "-n", l.speaker, "addr", "add", "203.0.113.1/24", "dev", speakerIface)
	wait("hl2s has the new address", func(s Link, _ map[string]Link) bool { return has(s, "203.0.113.1/24") })
	ip(t, "-n", l.speaker, "link", "set", speakerIface, "down")
	wait("hl2s is down", func(s Link, _ map[string]Link) bool { return !s.Up })
}
