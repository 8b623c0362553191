// Package election decides which node answers for a Service IP in Layer 2
// mode, and whether a speaker may claim any IP at all.
//
// It is pure: the same inputs give the same answer on every speaker, with no
// coordination, no I/O and no clock reads (times are passed in).
//
// The winner among an IP's candidates is chosen by rendezvous hashing: each
// candidate scores sha256(node, IP), and the highest score wins. IPs spread
// evenly over the nodes, and when a node goes only its own IPs move.
//
// A speaker claims IPs only while it has quorum: it sees more than half of
// the speakers it knows of alive (itself included). On the minority side of a
// partition, or cut off alone, it claims nothing, so that when the partition
// heals exactly one node is answering. An exact half, as in a two-node
// cluster after one node fails, is settled by a tie-breaker Lease in the
// apiserver: the side recorded by its current holder claims, the other does
// not (see TieBreak).
package election
