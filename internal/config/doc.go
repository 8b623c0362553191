// Package config turns Herald's Kubernetes objects into validated input for
// the pure core: allocator pools and requests for the controller (pools.go,
// service.go), and the pools and advertisements the speaker announces
// (announce.go).
//
// It is pure: it reads API objects and returns plain values, with no client,
// no I/O and no goroutines. Cross-object problems, such as a pool overlapping
// an older one, are reported per object so that a reconciler can put them in
// a condition; the remaining objects stay in force.
package config
