// Package metricsserve serves a binary's Prometheus metrics the one way both
// the controller and the speaker do: over HTTPS, to callers that
// authenticate with a Kubernetes token and may get /metrics (TokenReview
// and SubjectAccessReview), unless told to serve plain HTTP.
package metricsserve

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"

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

// ErrNotLoopback is returned for an address that would serve beyond the
// host itself.
var ErrNotLoopback = errors.New("not a loopback address")

// LoopbackOnly accepts "0" (disabled) and host:port addresses whose host
// is a loopback IP or localhost: an endpoint such as pprof, which has no
// authentication, must not be reachable from the network, and the
// speaker shares the host's.
func LoopbackOnly(addr string) error {
	if addr == "0" || addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parse %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q: %w; use 127.0.0.1:PORT or [::1]:PORT", addr, ErrNotLoopback)
}
