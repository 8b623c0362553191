// Package metricsserve serves a binary's Prometheus metrics the one way both
// the controller and the speaker do: over HTTPS, to callers that
// authenticate with a Kubernetes token and may get /metrics (TokenReview
// and SubjectAccessReview), unless told to serve plain HTTP.
package metricsserve

import (
	"crypto/tls"
	"flag"

	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Flags are the metrics endpoint's command line.
type Flags struct {
	Addr    string
	Secure  bool
	CertDir string
}

// Register declares --metrics-bind-address (defaulting to addr),
// --metrics-secure and --metrics-cert-dir on fs.
func (f *Flags) Register(fs *flag.FlagSet, addr string) {
	fs.StringVar(&f.Addr, "metrics-bind-address", addr, "address the metrics endpoint binds to; 0 disables it")
	fs.BoolVar(&f.Secure, "metrics-secure", true, "serve metrics over HTTPS to clients that authenticate and are authorized (TokenReview and SubjectAccessReview of get on /metrics)")
	fs.StringVar(&f.CertDir, "metrics-cert-dir", "", "directory holding tls.crt and tls.key for the metrics endpoint; without it, a self-signed certificate made at start")
}

// Options is what controller-runtime's metrics server gets for f.
func (f Flags) Options() metricsserver.Options {
	m := metricsserver.Options{BindAddress: f.Addr, SecureServing: f.Secure, CertDir: f.CertDir}
	if f.Secure {
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
		// HTTP/2 is off: its rapid-reset and stream attacks need no
		// credentials, and the endpoint gains nothing from it.
		m.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	return m
}
