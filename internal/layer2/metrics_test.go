package layer2

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
