// Package layer2 answers ARP and NDP for load-balancer IPs, sends
// gratuitous announcements, and watches the node's links.
//
// It is one of the speaker's adapters: the shell decides, with pure code,
// which IPs this node answers for on which interfaces, and hands the whole
// set to Announcer.Set. The package imports nothing of Kubernetes except
// k8s.io/utils/clock.
//
// # Shape
//
// Each (interface, protocol) pair that has at least one IP gets a listener:
// an AF_PACKET socket bound to the interface, with a classic BPF filter so
// that only ARP requests (IPv4) or Neighbor Solicitations (IPv6) addressed
// to this host reach user space. A reader goroutine per listener parses each
// frame with pure functions (respondARP, respondNDP) against an immutable
// snapshot of the IPs it owns, loaded through an atomic pointer, and writes
// the reply frame on the same socket. Set swaps the snapshots; readers never
// take a lock.
//
// A listener belongs to the link it opened on, its index and MAC, not to a
// name. Each Set looks its interfaces up by name, and replaces a listener
// whose name has come to stand for another link (deleted and re-created) or
// another MAC (an active-backup bond with fail_over_mac=active after a
// failover), with a burst naming the MAC the link has now.
//
// # Why packet sockets for NDP too
//
// MetalLB reads Neighbor Solicitations from an ICMPv6 socket bound to the
// interface's link-local address. Two of its bugs come from that:
//   - metallb#2685: binding fails ("cannot assign requested address") when
//     the link-local address cannot be bound (still tentative, failed DAD,
//     or not the address MetalLB picked), so the interface gets no NDP
//     responder at all. Herald binds no IPv6 address and needs none: it
//     reads and writes whole frames on a packet socket, and uses an ICMPv6
//     socket bound to "::" only to join the solicited-node multicast groups
//     (so that the kernel sends MLD reports and the NIC accepts the frames).
//     Its listeners also follow the pairs, so ARP opens only on interfaces
//     with IPv4 pairs and NDP only on those with IPv6 ones (the other half of
//     that issue).
//   - metallb#2920: Neighbor Unreachability Detection sends a unicast NS to
//     the IP itself. The kernel does not own the load-balancer IP, so it
//     never delivers that packet to any IP socket, the probe goes unanswered
//     and the client's neighbour entry fails every few minutes. A packet
//     socket sees the frame because it is addressed to our MAC, so Herald
//     answers unicast NS exactly like multicast ones.
//
// Replies are built as whole Ethernet frames and sent to the requester's MAC
// (the ARP sender hardware address, or the NS source link-layer address
// option), so they leave through the interface the request came in on, with
// no dependence on the kernel's routes or neighbour table. This is also why
// an interface without an IPv4 address can answer ARP.
//
// Advertisements come from the announced IP itself, as Linux sends them for
// its own addresses, not from the interface's link-local address: Linux
// accepts either, but ndisc6 (and the tools that copied its check) drops an
// answer for a global target that comes from a link-local address, because
// its scope differs from the target's. It also spares the interface any need
// for a usable link-local address.
//
// # Gratuitous announcements
//
// IPv4 uses the ARP Announcement of RFC 5227: a broadcast ARP request whose
// sender and target IP are both the announced IP. Linux updates an existing
// neighbour entry from such a request, and treats it as gratuitous, which
// overrides the one-second locktime that otherwise keeps the first of two
// competing answers (arp_is_garp in net/ipv4/arp.c); a reply counts as
// gratuitous only if its target hardware address equals its sender's.
// IPv6 uses an unsolicited Neighbor Advertisement to ff02::1 with Override
// set and Solicited clear, which Linux applies to an existing entry.
//
// A takeover sends Options.BurstCount rounds, Options.BurstInterval apart,
// the first at once. The defaults, 3 rounds 250 ms apart, survive two lost
// packets (a busy segment, a switch port still being learned after a
// failover) and are over in half a second, before a client's first SYN
// retransmission (TCP's initial retransmission timeout is 1 s, RFC 6298).
// Three broadcasts per IP stay cheap even when a node takes over many IPs
// at once.
//
// # Lifecycle
//
// New opens nothing. Set opens and closes sockets as it needs, whether or not
// Run has started, so its result and Applied never depend on a race with
// Run's start; reader goroutines and the later rounds of bursts start when
// Run does. Run closes every socket before it returns; a Set after that
// returns ErrStopped.
package layer2
