// Package kube holds what Herald's controller and speaker both need from
// Kubernetes: the scheme, Herald's namespace, which Services are Herald's,
// and the IPs in a Service's load-balancer status. Neither program imports
// the other's shell; both import this.
package kube
