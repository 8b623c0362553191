// Package faults proves the controller under faults, against a real
// apiserver and etcd (internal/testenv), with the controller running as
// real processes built from this tree, under the ServiceAccount and RBAC of
// config/rbac: two replicas killed with SIGKILL or stopped, an apiserver
// outage, churn while replicas die, and bad input. It needs no root and no
// network namespace; every process it starts dies with the test binary.
//
// Its tests are bounded for CI. HERALD_SOAK=1 makes the chaos run long
// (make soak).
package faults
