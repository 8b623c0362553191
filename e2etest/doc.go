// Package e2etest holds Herald's end-to-end suites. They run on the network
// lab (package e2etest/lab): a real apiserver, node namespaces, an FRR router
// and clients, with the controller and speakers as real processes.
package e2etest
