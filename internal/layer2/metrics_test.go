package layer2

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/mdlayher/ethernet"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/internal/metallbcompat"
)

func TestMetricsRegister(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := m.Register(reg); err == nil {
		t.Fatal("registering twice succeeded")
	}
	c := m.forKey(key{iface: "eth0", proto: protoARP})
	for _, c := range []prometheus.Counter{c.requests, c.ignored, c.replies, c.gratuitous, c.errors} {
		c.Inc()
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["interface"] != "eth0" || labels["protocol"] != "arp" || len(labels) != 2 {
				t.Errorf("%s has labels %v, want interface=eth0 protocol=arp", f.GetName(), labels)
			}
		}
	}
	want := []string{
		"herald_layer2_gratuitous_total", "herald_layer2_replies_total", "herald_layer2_requests_ignored_total",
		"herald_layer2_requests_total", "herald_layer2_socket_errors_total",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("metrics %v, want %v", names, want)
	}
}

// TestSeriesOfAGoneInterfaceAreDropped: an interface that stops carrying
// announcements (or goes away) takes its series with it, so that the
// number of series is bounded by the interfaces in use, not by every one
// ever seen, such as the veths pods come and go with.
func TestSeriesOfAGoneInterfaceAreDropped(t *testing.T) {
	m := NewMetrics()
	a, _, _ := newTestAnnouncer(t, Options{Metrics: m})
	start(t, a)
	ip := netip.MustParseAddr("198.51.100.7")
	for i := range 50 {
		if err := a.Set([]Announcement{{IP: ip, Interface: fmt.Sprintf("eth%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := testutil.CollectAndCount(m.Gratuitous); n != 1 {
		t.Errorf("%d gratuitous series after moving over 50 interfaces, want 1 (eth49)", n)
	}
	if err := a.Set(nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*prometheus.CounterVec{m.Requests, m.Ignored, m.Replies, m.Gratuitous, m.Errors} {
		if n := testutil.CollectAndCount(c); n != 0 {
			t.Errorf("%d series left with nothing announced, want 0", n)
		}
	}
}

// TestPerIPSeriesFollowTheAnnouncedIPs: MetalLB's per-IP counters count
// the requests answered, the replies and the takeover bursts of each IP,
// and an IP's series go when the Announcer no longer answers for it, so
// that their number is bounded by the IPs announced.
func TestPerIPSeriesFollowTheAnnouncedIPs(t *testing.T) {
	m := NewMetrics()
	a := startTestAnnouncer(t, Options{Metrics: m, BurstCount: 1})
	mustSet(t, a.Announcer, pairs(vip4, "eth0", vip4b, "eth0"))
	arp0 := a.net.conn(t, "eth0", protoARP)
	arp0.drain()
	// The reader handles frames in order: the reply to the second request
	// proves the first was counted in full.
	for _, ip := range []netip.Addr{vip4, vip4b} {
		arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, ip, ethernet.Broadcast))
		arp0.next(t)
	}
	arp0.deliver(t, arpRequestFrame(t, clientMAC, client4, vip4b, ethernet.Broadcast))
	arp0.next(t)
	for _, c := range []struct {
		name string
		vec  *prometheus.CounterVec
		ip   netip.Addr
		want float64
	}{
		{"requests", m.ByIP.Requests, vip4, 1},
		{"replies", m.ByIP.Replies, vip4, 1},
		{"requests", m.ByIP.Requests, vip4b, 2},
		{"gratuitous", m.ByIP.Gratuitous, vip4, 1},
		{"gratuitous", m.ByIP.Gratuitous, vip4b, 1},
	} {
		if got := testutil.ToFloat64(c.vec.WithLabelValues(c.ip.String())); got != c.want {
			t.Errorf("%s{ip=%s} = %v, want %v", c.name, c.ip, got, c.want)
		}
	}
	mustSet(t, a.Announcer, pairs(vip4b, "eth0"))
	for _, c := range []*prometheus.CounterVec{m.ByIP.Requests, m.ByIP.Gratuitous} {
		if got := metallbcompat.LabelValues(c, "ip"); !slices.Equal(got, []string{vip4b.String()}) {
			t.Errorf("per-IP series for %v after giving up %s, want only %s", got, vip4, vip4b)
		}
	}
	mustSet(t, a.Announcer, nil)
	for _, c := range []*prometheus.CounterVec{m.ByIP.Requests, m.ByIP.Replies, m.ByIP.Gratuitous} {
		if n := testutil.CollectAndCount(c); n != 0 {
			t.Errorf("%d per-IP series left with nothing announced, want 0", n)
		}
	}
}
