// Package liveness keeps a speaker in the memberlist cluster of speakers and
// reports which speakers are alive.
//
// It wraps github.com/hashicorp/memberlist (SWIM with Lifeguard's
// refinements). The shell gives it, through Set, the addresses of the other
// speakers (from their Leases) and this speaker's meta; it reports, through
// Members and Changes, who is alive. Quorum and election are decided
// elsewhere, by pure code. The package imports nothing of Kubernetes.
//
// Gossip is always encrypted and authenticated (AES-GCM with SecretKey),
// both ways: a speaker with another key, or none, never joins, and both
// sides log why. SecondaryKeys are accepted too, and SetKeys changes the
// keyring of a running speaker, so a key is rotated without losing gossip
// in three steps, each applied on every speaker before the next: add the
// new key as secondary, make it the primary, remove the old key.
//
// # Detection time
//
// A speaker that dies is noticed by probing. Every ProbeInterval each
// speaker pings one other, round-robin over a shuffled list. A ping not
// answered within ProbeTimeout is retried through IndirectChecks other
// speakers and over TCP; if nothing answers by the end of the interval the
// target becomes suspect, and the suspicion is gossiped. A suspect that does
// not refute within the suspicion timeout is declared dead:
//
//	timeout = SuspicionMult × max(1, log10 N) × ProbeInterval
//
// When k = SuspicionMult − 2 other speakers could confirm the suspicion, the
// timer starts at SuspicionMaxTimeoutMult × timeout and falls to the timeout
// as k independent confirmations come in (Lifeguard: one confused prober
// alone accuses slowly). So, roughly:
//
//	detection ≈ wait for a probe + ProbeInterval + timeout + a gossip round
//
// With DefaultTimings and three speakers (timeout 300 ms, k = 1, start at
// 900 ms): both survivors probe the dead one within about an interval, each
// confirms the other's suspicion, and the verdict lands after about 450–600
// ms. Measured on a loaded 2-core VM (two copies of this package's tests at
// once, beside other work), 80 kills: p50 549 ms, p90 596 ms, max 645 ms
// (MetalLB, with memberlist's defaults, takes 6–7 s). Rounds in which the VM
// froze the test process took up to 1.3 s.
//
// With more speakers the timeout grows with log10 N (600 ms at N = 100,
// 900 ms at N = 1000); probes of a given speaker still come about once per
// interval from the cluster as a whole, so confirmations keep coming; and
// gossip needs about log3 N rounds of GossipInterval to reach everyone.
// Expect about 0.8–1 s at 100 speakers. Bandwidth stays small: ten probes a
// second per speaker, gossip only when there is news, and a TCP state
// exchange every PushPullInterval (memberlist stretches it beyond 32
// speakers).
//
// The side of a partition that can reach no one is slower, by design: it
// gets no confirmations, so its timers run to the maximum, and Lifeguard's
// awareness stretches its probe interval (up to AwarenessMaxMultiplier
// times) because its probes fail without anyone's nacks. A speaker cut off
// from the other two drops them after 1.2–2.1 s (p50 1.34 s), while they
// drop it after about 0.5 s.
//
// Suspicion is what tolerates a slow speaker: one that is starved of CPU for
// longer than about the timeout plus a probe interval will be declared dead,
// and rejoins as soon as it refutes. Do not give the speaker a CPU limit
// that throttles it for periods that long.
//
// # Rejoin
//
// memberlist never contacts a speaker again once it has declared it dead,
// and forgets it after GossipToTheDeadTime; before that, only gossip that
// happens to be queued reaches it. So after a partition heals, nothing in
// memberlist brings the sides back together. Run does: every RejoinInterval,
// and at once after Set, it joins peer addresses that no alive member has,
// at most 8 joins in flight at a time, chosen at random among those
// addresses (one attempt per peer at a time, so an unreachable peer costs
// one connection attempt, bounded by TCPTimeout). The state exchange of a
// join makes each side refute the other's verdict, and the refutations
// bring it back on every speaker; one join that gets through to the other
// side is enough, so a wide partition needs no join per missing peer. The
// bound is for a cold start: N speakers that each joined every address
// they did not see yet made N² full state exchanges of an N-member state
// (docs/benchmarks.md, "Gossip at scale, simulated"). Up to 8 missing
// peers, every one is joined at once, as before. Measured over 80 heals of a one-against-two
// partition: p50 197 ms, p90 531 ms, max 654 ms; after a partition longer
// than GossipToTheDeadTime, 46–593 ms (8 heals).
//
// # Measuring
//
// The figures above come from the tests, which print every round:
//
//	go test ./internal/liveness -run 'TestDetectionTime|TestPartitionHeals|TestLongPartitionHeals' -v
//
// HERALD_LIVENESS_ROUNDS sets the number of rounds (default 10, 3 with
// -short).
package liveness
