package layer2

import (
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
