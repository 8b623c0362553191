package main

import (
	"flag"
	"io"
	"net/netip"
	"testing"
)

// TestMemberlistBindDefault: with no --memberlist-bind-address, memberlist
// listens on the unspecified address of the advertised family, so that an
// IPv6-only node's speaker can be reached; the flag still wins when set.
func TestMemberlistBindDefault(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		advertise string
		want      string
	}{
		{"IPv6 node", nil, "2001:db8::10", "::"},
		{"IPv4 node", nil, "198.51.100.10", "0.0.0.0"},
		{"flag set", []string{"--memberlist-bind-address", "203.0.113.1"}, "2001:db8::10", "203.0.113.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("speaker", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f := register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := bindAddr(*f, netip.MustParseAddr(tt.advertise), true)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("bind %v, want %s", got, tt.want)
			}
		})
	}
}
