// Package ipam allocates load-balancer IPs from pools.
//
// The package is pure: it imports no Kubernetes packages and no sockets,
// does no I/O, starts no goroutines and keeps no global state. The
// controller gathers a snapshot (pools, Services, namespace labels), turns it
// into Pools and Requests, and applies what the Allocator returns.
//
// # Data structure
//
// Every pool keeps, per address family, a B-tree of free intervals
// (github.com/google/btree). Taking the lowest free address, taking a given
// address and giving one back are O(log n) in the number of free intervals;
// nothing ever scans a pool from its start. A map from address to the keys
// holding it gives sharing checks and Holders. Pool statistics are counters
// maintained on every change; sizes are exact big integers, so an IPv6 /64
// (or larger) is reported exactly.
//
// # Selection
//
// A Request is served, in order, from:
//   - the IPs it already holds, if they still satisfy it (idempotence: a
//     pool edit, a pinning change or a restart never moves an IP);
//   - its requested IPs (spec.loadBalancerIP or the loadBalancerIPs
//     annotation), which must lie in one pool, the named one if a pool is
//     named as well;
//   - the pool named by its address-pool annotation;
//   - otherwise the auto-assign pools it may use: pools pinned to it (by
//     namespace, namespace selector or service selector) first, then by
//     priority (set priorities before unset ones, lower first), then by name.
//
// Pools with autoAssign=false are used only when asked for by name or by IP.
// A pool being deleted (Pool.Deleting) gives out nothing new, however it is
// asked for, while the Services holding its addresses keep them; Pool.ClosedTo
// is the one place that says whether a pool may give a Service a new address.
// Pinning follows MetalLB: a pinned pool serves only matching Services, also
// when it is asked for by name or by IP (MetalLB checks
// isPoolCompatibleWithService in Assign). Recording an existing assignment
// with Assign never checks pinning, autoAssign or pool membership: an
// assigned IP is never taken away.
//
// A CIDR with host bits set is accepted and masked, as MetalLB does, and the
// IPAddressPool CRD accepts it too: ParseRange and the CRD's rules accept the
// same strings, except a reversed IPv6 range, which only ParseRange can tell
// (see api/v1beta1.AddressRange).
package ipam
