package layer2

import (
	"fmt"

	"golang.org/x/net/bpf"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd

	// Linux skb->pkt_type values (linux/if_packet.h): frames for us, to
	// broadcast, to multicast. Higher values are frames for other hosts,
	// our own outgoing frames and looped-back ones.
	packetMulticast = 2

	// Offsets in an untagged Ethernet frame.
	offEtherType = 12
	offARPOp     = 14 + 6
	offIPv6Next  = 14 + 6
	offICMPType  = 14 + ipv6HeaderLen

	arpOpRequest = 1
	icmpTypeNS   = 135

	// acceptAll keeps the whole frame.
	acceptAll = 0x40000
)

// socketFilter returns the classic BPF program for a listener: the kernel
// drops every frame its responder would ignore anyway, so a busy segment
// does not wake the reader for other hosts' traffic.
//
// It first uses two Linux extensions: the packet type, to drop frames for
// other hosts and our own outgoing ones, and the VLAN tag, which the kernel
// strips before packet sockets see the frame. The rest is plain header
// matching, in frameFilter.
func socketFilter(p protocol) ([]bpf.RawInstruction, error) {
	prog := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: packetMulticast, SkipTrue: 2},
		bpf.LoadExtension{Num: bpf.ExtVLANTagPresent},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	}
	prog = append(prog, frameFilter(p)...)
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("assemble %s socket filter: %w", p, err)
	}
	return raw, nil
}

// frameFilter matches ARP requests or ICMPv6 Neighbor Solicitations by
// their headers. It uses no extension, so x/net/bpf's VM can run it in
// tests.
func frameFilter(p protocol) []bpf.Instruction {
	type field struct {
		off, size int
		val       uint32
	}
	var fields []field
	switch p {
	case protoARP:
		fields = []field{{offEtherType, 2, etherTypeARP}, {offARPOp, 2, arpOpRequest}}
	case protoNDP:
		fields = []field{{offEtherType, 2, etherTypeIPv6}, {offIPv6Next, 1, protocolICMPv6}, {offICMPType, 1, icmpTypeNS}}
	}
	var prog []bpf.Instruction
	for i, f := range fields {
		// On a mismatch, skip the remaining checks and the accept.
		skip := uint8(2*(len(fields)-i-1) + 1)
		prog = append(prog,
			bpf.LoadAbsolute{Off: uint32(f.off), Size: f.size},
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: f.val, SkipTrue: skip},
		)
	}
	return append(prog, bpf.RetConstant{Val: acceptAll}, bpf.RetConstant{Val: 0})
}
