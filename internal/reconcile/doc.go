// Package reconcile holds the controller's reconcilers: they gather a
// snapshot from the informer cache, call the allocator, and patch status.
//
// One allocator (internal/ipam, not goroutine-safe) is shared by the Service
// and IPAddressPool reconcilers behind a mutex; API writes happen outside the
// lock. Before either reconciler does anything, the first reconcile loads the
// pools and every assignment already in Service status (the start-up
// barrier), so that a restart never moves an IP. Reconcilers run only in the
// leader, so only the leader allocates.
package reconcile
