// Package speaker is the speaker's shell: it watches the cluster, keeps this
// node's memberlist membership and Lease, and hands the plan's entries to the
// Layer 2 announcer.
//
// One goroutine, the loop in Run, owns all of the speaker's state. Informer
// events, membership changes, link changes and timers only wake it; it then
// gathers one snapshot from the informer cache, computes the plan with
// internal/plan, and applies the difference. It never waits on the
// apiserver: Lease renewals, the per-node record and tie-breaker updates go
// through a writer goroutine whose results come back to the loop as
// messages, so a slow or unreachable apiserver never delays a failover.
//
// Quorum (internal/election) rests on two sources: the speakers alive in
// memberlist, and the speakers known from their per-node Leases in Herald's
// namespace, which also carry each speaker's memberlist address for
// discovery.
package speaker
