package metricsserve

import (
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"testing"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		secure bool
		addr   string
	}{
		{"defaults", nil, true, ":7472"},
		{"plain", []string{"--metrics-secure=false"}, false, ":7472"},
		{"elsewhere", []string{"--metrics-bind-address=127.0.0.1:9000", "--metrics-cert-dir=/certs"}, true, "127.0.0.1:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f Flags
			f.Register(fs, ":7472")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o := f.Options()
			if o.BindAddress != tt.addr || o.SecureServing != tt.secure || o.CertDir != f.CertDir {
				t.Errorf("options %+v, want %s secure=%v", o, tt.addr, tt.secure)
			}
			if (o.FilterProvider != nil) != tt.secure {
				t.Errorf("authentication and authorization filter set = %v, want %v", o.FilterProvider != nil, tt.secure)
			}
			if !tt.secure {
				return
			}
			c := &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
			for _, opt := range o.TLSOpts {
				opt(c)
			}
			if len(c.NextProtos) != 1 || c.NextProtos[0] != "http/1.1" {
				t.Errorf("ALPN %v, want HTTP/1.1 only", c.NextProtos)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
		// notLoopback: the error is ErrNotLoopback, not a parse error.
		notLoopback bool
	}{
		{addr: "0", ok: true},
		{addr: "127.0.0.1:6060", ok: true},
		{addr: "[::1]:6060", ok: true},
		{addr: "localhost:6060", ok: true},
		{addr: ":6060", notLoopback: true},
		{addr: "0.0.0.0:6060", notLoopback: true},
		{addr: "198.51.100.10:6060", notLoopback: true},
		{addr: "127.0.0.1"},
	}
	for _, tt := range tests {
		err := LoopbackOnly(tt.addr)
		if (err == nil) != tt.ok || errors.Is(err, ErrNotLoopback) != tt.notLoopback {
			t.Errorf("LoopbackOnly(%q) = %v, want ok %v, ErrNotLoopback %v", tt.addr, err, tt.ok, tt.notLoopback)
		}
	}
}
