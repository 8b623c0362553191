// Package reconcile holds the controller's reconcilers: they gather a
// snapshot from the informer cache, call the allocator, and patch status.
//
// One allocator (internal/ipam, not goroutine-safe) is shared by the Service
// and IPAddressPool reconcilers behind a mutex; API writes happen outside the
// lock.
//
// Every replica runs the reconcilers and keeps its informers warm, but only
// the leader acts (see leadership): its work belongs to a term, which
// begins when it wins the Lease and ends when it loses or gives it up.
// Each term starts from nothing. Before either reconciler does anything, the
// first reconcile of a term reads the pools and every assignment already in
// Service status straight from the apiserver (the start-up barrier), so that
// a restart or a failover never moves an IP. Every write checks that its
// term is still in force, and a replica that steps down lets the work in
// flight finish before it releases the Lease.
//
// The decisions of the Service path (adopting status IPs, whose status it
// is, what to patch) are pure functions in service_decide.go, as the pool
// status is in pool_status.go.
package reconcile
