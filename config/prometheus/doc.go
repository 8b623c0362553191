// Package prometheus holds Herald's monitoring objects, applied with
// kustomize: ServiceMonitors, a PrometheusRule and a Grafana dashboard. It
// has no code: its tests check that every rule and query parses, names only
// metrics that Herald's binaries export, and that each alert fires when it
// should and stays quiet when it should not.
package prometheus
