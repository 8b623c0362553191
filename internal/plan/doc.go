// Package plan computes what each speaker announces, from one consistent
// snapshot of the cluster: the configuration, the Services that have IPs and
// where their endpoints are ready, the Nodes, and the speakers alive in
// memberlist.
//
// It is pure: Compute is a function of its Inputs, with no client, no I/O and
// no clock, and every speaker that sees the same inputs computes the same
// plan. The shell gathers a snapshot, calls Compute, and hands the entries
// it won to the announcers.
//
// For each Service IP in Layer 2 mode, the candidates are the nodes that an
// L2Advertisement of the IP's pool selects, minus nodes excluded from load
// balancers or with NetworkUnavailable; under externalTrafficPolicy Local
// only nodes with a ready local endpoint; and only nodes whose speaker is
// alive and has an interface for the IP. An IP none of whose Services has a
// ready endpoint is not announced. internal/election picks the winner among
// the candidates. Every IP that ends up announced by nobody is listed with
// the reason, for the Event that tells the user.
package plan
