package speaker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/internal/plan"
)

// TestAnnouncedSeriesFollowThePlan: metallb_speaker_announced has a series
// per Service, protocol and IP this node announces, set from the same call
// as herald_speaker_announced_ips, and a series goes when its Service or
// IP is no longer announced.
func TestAnnouncedSeriesFollowThePlan(t *testing.T) {
	m := NewMetrics()
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	ip1, ip2 := netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("2001:db8::10")
	shared := []plan.L2{{IP: ip1, Services: []string{"default/a", "default/b"}, Winner: "node-1"}}
	adv := []plan.Advertised{{IP: ip2, Services: []string{"web/c"}}}
	const help = `
# HELP metallb_speaker_announced Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged.
# TYPE metallb_speaker_announced gauge
# HELP herald_speaker_announced_ips IPs this node announces, by mode.
# TYPE herald_speaker_announced_ips gauge
`
	steps := []struct {
		name string
		mine []plan.L2
		adv  []plan.Advertised
		want string
	}{
		{"both modes", shared, adv, `
metallb_speaker_announced{ip="198.51.100.10",node="node-1",protocol="layer2",service="default/a"} 1
metallb_speaker_announced{ip="198.51.100.10",node="node-1",protocol="layer2",service="default/b"} 1
metallb_speaker_announced{ip="2001:db8::10",node="node-1",protocol="bgp",service="web/c"} 1
herald_speaker_announced_ips{mode="bgp"} 1
herald_speaker_announced_ips{mode="layer2"} 1
`},
		{"one Service leaves the shared IP, BGP withdrawn", []plan.L2{{IP: ip1, Services: []string{"default/b"}, Winner: "node-1"}}, nil, `
metallb_speaker_announced{ip="198.51.100.10",node="node-1",protocol="layer2",service="default/b"} 1
herald_speaker_announced_ips{mode="bgp"} 0
herald_speaker_announced_ips{mode="layer2"} 1
`},
		{"nothing", nil, nil, `
herald_speaker_announced_ips{mode="bgp"} 0
herald_speaker_announced_ips{mode="layer2"} 0
`},
	}
	for _, s := range steps {
		m.setAnnounced("node-1", s.mine, s.adv)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(help+s.want), "metallb_speaker_announced", "herald_speaker_announced_ips"); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
}
