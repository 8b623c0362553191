// Package config turns Herald's Kubernetes objects into allocator input.
//
// It is pure: it reads IPAddressPools and Services and returns ipam Pools and
// Requests, with no client, no I/O and no goroutines. Cross-object problems,
// such as a pool overlapping an older one, are reported per pool so that the
// reconciler can put them in a condition; the remaining pools stay in force.
package config
