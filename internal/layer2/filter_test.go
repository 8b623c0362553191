package layer2

import (
	"testing"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"golang.org/x/net/bpf"
)

func TestSocketFilterAssembles(t *testing.T) {
	for _, p := range []protocol{protoARP, protoNDP} {
		if _, err := socketFilter(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestFrameFilter runs the header part of each socket filter in x/net's
// BPF VM, which lacks the Linux extensions of the first part; the root
// test covers the whole program in the kernel.
func TestFrameFilter(t *testing.T) {
	arpReply, err := arpFrame(arp.OperationReply, clientMAC, clientMAC, client4, ourMAC, vip4, ourMAC)
	if err != nil {
		t.Fatal(err)
	}
	na, err := unsolicitedNA(clientMAC, clientMAC, vip6)
	if err != nil {
		t.Fatal(err)
	}
	arpReq := arpRequestFrame(t, clientMAC, client4, vip4, ethernet.Broadcast)
	ns := multicastNS(t, vip6)
	for _, tc := range []struct {
		name  string
		proto protocol
		frame []byte
		pass  bool
	}{
		{"ARP request", protoARP, arpReq, true},
		{"ARP reply", protoARP, arpReply, false},
		{"NS on the ARP socket", protoARP, ns, false},
		{"truncated ARP", protoARP, arpReq[:20], false},
		{"NS", protoNDP, ns, true},
		{"NA", protoNDP, na, false},
		{"ARP on the NDP socket", protoNDP, arpReq, false},
		{"truncated NS", protoNDP, ns[:54], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := bpf.NewVM(frameFilter(tc.proto))
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if pass := n > 0; pass != tc.pass {
				t.Fatalf("filter kept %d bytes; want pass=%v", n, tc.pass)
			}
			// The kernel keeps min(n, length): n must cover the frame.
			if tc.pass && n < len(tc.frame) {
				t.Fatalf("filter keeps %d of %d bytes; want the whole frame", n, len(tc.frame))
			}
		})
	}
}
