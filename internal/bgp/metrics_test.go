package bgp

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func gaugeValue(t *testing.T, v *prometheus.GaugeVec, peer string) float64 {
	t.Helper()
	return testutil.ToFloat64(v.WithLabelValues(peer))
}

func counterValue(t *testing.T, v *prometheus.CounterVec, peer string) float64 {
	t.Helper()
	return testutil.ToFloat64(v.WithLabelValues(peer))
}

func seriesCount(t *testing.T, m *Metrics) int {
	t.Helper()
	return testutil.CollectAndCount(m.SessionUp) + testutil.CollectAndCount(m.PrefixesAdvertised) + testutil.CollectAndCount(m.UpdatesSent)
}

func TestMetricsRegister(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatalf("Register: %v", err)
	}
	m.SessionUp.WithLabelValues("tor").Set(1)
	m.PrefixesAdvertised.WithLabelValues("tor").Set(3)
	m.UpdatesSent.WithLabelValues("tor").Add(2)
	const want = `
# HELP herald_bgp_prefixes_advertised Prefixes advertised to the peer on the established session.
# TYPE herald_bgp_prefixes_advertised gauge
herald_bgp_prefixes_advertised{peer="tor"} 3
# HELP herald_bgp_session_up 1 while the BGP session with the peer is established, else 0.
# TYPE herald_bgp_session_up gauge
herald_bgp_session_up{peer="tor"} 1
# HELP herald_bgp_updates_sent_total BGP UPDATE messages sent to the peer, End-of-RIB markers included.
# TYPE herald_bgp_updates_sent_total counter
herald_bgp_updates_sent_total{peer="tor"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if err := m.Register(reg); err == nil {
		t.Error("registering twice succeeded")
	}
	m.forget("tor")
	if n := seriesCount(t, m); n != 0 {
		t.Errorf("%d series left after forget", n)
	}
}
