package speaker

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heraldlb/herald/internal/election"
)

func observations(t *testing.T, h prometheus.Observer) uint64 {
	t.Helper()
	return histogram(t, h).GetSampleCount()
}

func histogram(t *testing.T, h prometheus.Observer) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := h.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram()
}

// TestFailoverHistograms: a Service created while the speaker runs, that
// this node wins, is observed once in the announce latency; when a node
// dies, each IP this node takes over from it is observed once in the
// takeover histogram.
func TestFailoverHistograms(t *testing.T) {
	ips := []string{"198.51.100.64", "198.51.100.65", "198.51.100.66", "198.51.100.67", "198.51.100.68", "198.51.100.69"}
	m := NewMetrics()
	ns := setUp(t)
	for i, ip := range ips {
		service(t, ns, fmt.Sprintf("s%d", i), ip, nil, "node1")
	}
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := start(t, "node1", mem, func(o *Options) { o.Metrics = m })
	h.waitApplied(mineOf("node1", all3, ips...))

	// A new Service on an IP node1 wins.
	next := ""
	for i := 70; next == ""; i++ {
		if ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}); winner(ip, all3) == "node1" {
			next = ip.String()
		}
	}
	latency := m.AnnounceSeconds.WithLabelValues("layer2")
	before := observations(t, latency)
	service(t, ns, "new", next, nil, "node1")
	ips = append(ips, next)
	h.waitApplied(mineOf("node1", all3, ips...))
	waitFor(t, "announce latency", func() (bool, string) {
		n := observations(t, latency)
		return n == before+1, fmt.Sprintf("%d observations, want %d", n, before+1)
	})

	kept := len(mineOf("node1", all3, ips...))
	mem.set(members(t, 1, 3)...)
	after := mineOf("node1", []string{"node1", "node3"}, ips...)
	h.waitApplied(after)
	want := uint64(len(after) - kept)
	if want == 0 {
		t.Fatalf("test needs node1 to take over some of %v from node2", ips)
	}
	waitFor(t, "takeovers", func() (bool, string) {
		n := observations(t, m.TakeoverSeconds)
		return n == want, fmt.Sprintf("%d observations, want %d", n, want)
	})
	for name, o := range map[string]prometheus.Observer{"announce": latency, "takeover": m.TakeoverSeconds} {
		hg := histogram(t, o)
		t.Logf("%s: %d observations, mean %.4fs", name, hg.GetSampleCount(), hg.GetSampleSum()/float64(hg.GetSampleCount()))
	}
}

func winner(ip netip.Addr, nodes []string) string {
	w, _ := election.Winner(ip, nodes)
	return w
}
