// Package announcement sums up, for one Service, which nodes announce its
// IPs, over which protocol and to which BGP peers, from what the speakers
// report in their HeraldNodes; and which Events the change from the last
// summary deserves.
//
// It is pure: HeraldNodes, a Service's IPs, the previous status and the
// time in; the desired ServiceAnnouncement status and Events out. It reads
// API types but never talks to an apiserver. The controller's reconciler
// (internal/reconcile) gathers the inputs and writes the outputs.
//
// The previous status is the only memory: "was node1" in an Event and how
// long an IP has gone unannounced both come from the object as written, so
// a new leader carries on where the last one stopped.
package announcement
