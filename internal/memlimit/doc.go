// Package memlimit works out the Go runtime's soft memory limit
// (GOMEMLIMIT) from the container's memory limit, which the DaemonSet
// passes in through the downward API, so that the garbage collector works
// harder as the process nears the limit instead of letting the heap grow
// until the kernel kills it.
package memlimit
