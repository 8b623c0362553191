package bgp

import (
	"net/netip"
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

// TestMetalLBViews: MetalLB's BGP metrics carry the values of Herald's,
// labelled with the peer's address:port as MetalLB's native speaker does,
// and go with the session.
func TestMetalLBViews(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	m.opened(Session{Name: "tor", PeerAddress: netip.MustParseAddr("198.51.100.1")})
	m.opened(Session{Name: "spine", PeerAddress: netip.MustParseAddr("2001:db8::1"), PeerPort: 1179})
	m.SessionUp.WithLabelValues("tor").Set(1)
	m.PrefixesAdvertised.WithLabelValues("tor").Set(3)
	m.UpdatesSent.WithLabelValues("tor").Add(2)
	m.SessionUp.WithLabelValues("spine").Set(0)
	const want = `
# HELP metallb_bgp_announced_prefixes_total Number of prefixes currently being advertised on the BGP session
# TYPE metallb_bgp_announced_prefixes_total gauge
metallb_bgp_announced_prefixes_total{peer="198.51.100.1:179"} 3
# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down)
# TYPE metallb_bgp_session_up gauge
metallb_bgp_session_up{peer="198.51.100.1:179"} 1
metallb_bgp_session_up{peer="[2001:db8::1]:1179"} 0
# HELP metallb_bgp_updates_total Number of BGP UPDATE messages sent
# TYPE metallb_bgp_updates_total counter
metallb_bgp_updates_total{peer="198.51.100.1:179"} 2
`
	names := []string{"metallb_bgp_announced_prefixes_total", "metallb_bgp_session_up", "metallb_bgp_updates_total"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	m.forget("tor")
	m.forget("spine")
	if n, err := testutil.GatherAndCount(reg, names...); err != nil || n != 0 {
		t.Errorf("%d MetalLB series left after the sessions closed (%v), want 0", n, err)
	}
}
