package layer2

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
