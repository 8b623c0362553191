package layer2

import (
	"net/netip"
	"testing"

	"github.com/mdlayher/ethernet"
)

// The common case on a busy segment is a request for someone else's IP;
// these measure what the reader spends per frame.

func BenchmarkRespondARPForeign(b *testing.B) {
	frame := arpRequestFrame(b, clientMAC, client4, vip4b, ethernet.Broadcast)
	owned := set(vip4)
	for b.Loop() {
		if r := respondARP(frame, ourMAC, owned); r.verdict != foreign {
			b.Fatal("not foreign")
		}
	}
}

func BenchmarkRespondARPAnswer(b *testing.B) {
	frame := arpRequestFrame(b, clientMAC, client4, vip4, ethernet.Broadcast)
	owned := set(vip4)
	for b.Loop() {
		if r := respondARP(frame, ourMAC, owned); r.verdict != answer {
			b.Fatal("not answered")
		}
	}
}

func BenchmarkRespondNDPAnswer(b *testing.B) {
	frame := multicastNS(b, vip6)
	owned := set(vip6)
	for b.Loop() {
		if r := respondNDP(frame, ourMAC, owned); r.verdict != answer {
			b.Fatal("not answered")
		}
	}
}

// BenchmarkPerIPCount is what MetalLB's per-IP counters add to each
// request answered: a label lookup by the IP's text.
func BenchmarkPerIPCount(b *testing.B) {
	m := NewMetrics()
	ip := netip.MustParseAddr("198.51.100.10")
	for b.Loop() {
		m.ByIP.Requests.WithLabelValues(ip.String()).Inc()
	}
}
