package liveness

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"
)

func validOptions() Options {
	return Options{Name: "node-1", AdvertiseAddr: netip.MustParseAddr("198.51.100.10"), SecretKey: testKey}
}

func TestNewRequiresAKey(t *testing.T) {
	for _, n := range []int{0, 1, 15, 17, 31, 33, 64} {
		o := validOptions()
		o.SecretKey = bytes.Repeat([]byte{'k'}, n)
		if n == 0 {
			o.SecretKey = nil
		}
		_, err := New(o)
		if !errors.Is(err, ErrNoKey) {
			t.Errorf("New with a %d-byte key: %v, want ErrNoKey", n, err)
		}
	}
	for _, n := range []int{16, 24, 32} {
		o := validOptions()
		o.SecretKey = bytes.Repeat([]byte{'k'}, n)
		if _, err := New(o); err != nil {
			t.Errorf("New with a %d-byte key: %v", n, err)
		}
	}
	// The message must tell the user what a valid key is.
	if msg := ErrNoKey.Error(); !strings.Contains(msg, "16, 24 or 32 bytes") || !strings.Contains(msg, "same on every speaker") {
		t.Errorf("ErrNoKey does not say what a valid key is: %q", msg)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Options)
	}{
		{"no name", func(o *Options) { o.Name = "" }},
		{"no advertise address", func(o *Options) { o.AdvertiseAddr = netip.Addr{} }},
		{"unspecified advertise address", func(o *Options) { o.AdvertiseAddr = netip.IPv4Unspecified() }},
		{"bind port too large", func(o *Options) { o.BindPort = 65536 }},
		{"negative advertise port", func(o *Options) { o.AdvertisePort = -1 }},
		{"negative timing", func(o *Options) { o.Timings.GossipInterval = -time.Millisecond }},
		{"probe timeout as long as the interval", func(o *Options) {
			o.Timings.ProbeInterval, o.Timings.ProbeTimeout = 200*time.Millisecond, 200*time.Millisecond
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.change(&o)
			if _, err := New(o); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("New: %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestOptionDefaults(t *testing.T) {
	o, err := validOptions().normalize()
	if err != nil {
		t.Fatal(err)
	}
	if o.BindAddr != netip.IPv4Unspecified() || o.BindPort != DefaultPort || o.AdvertisePort != DefaultPort {
		t.Errorf("bind %v:%d, advertise port %d; want 0.0.0.0:%d and %d", o.BindAddr, o.BindPort, o.AdvertisePort, DefaultPort, DefaultPort)
	}
	if o.Timings != DefaultTimings() {
		t.Errorf("timings %+v, want DefaultTimings", o.Timings)
	}
	if _, ok := o.Clock.(clock.RealClock); !ok || o.Metrics == nil {
		t.Errorf("clock %T, metrics %v: want the real clock and unregistered metrics", o.Clock, o.Metrics)
	}

	v6 := validOptions()
	v6.AdvertiseAddr = netip.MustParseAddr("2001:db8::10")
	v6.BindPort = 7000
	if o, err = v6.normalize(); err != nil {
		t.Fatal(err)
	}
	if o.BindAddr != netip.IPv6Unspecified() || o.AdvertisePort != 7000 {
		t.Errorf("IPv6: bind %v, advertise port %d; want :: and the bind port 7000", o.BindAddr, o.AdvertisePort)
	}

	mapped := validOptions()
	mapped.AdvertiseAddr = netip.MustParseAddr("::ffff:198.51.100.10")
	if o, err = mapped.normalize(); err != nil {
		t.Fatal(err)
	}
	if o.AdvertiseAddr != netip.MustParseAddr("198.51.100.10") || o.BindAddr != netip.IPv4Unspecified() {
		t.Errorf("IPv4-mapped advertise address: got %v, bind %v; want it unmapped, bound to 0.0.0.0", o.AdvertiseAddr, o.BindAddr)
	}
}

func TestNewCopiesTheKey(t *testing.T) {
	o := validOptions()
	o.SecretKey = bytes.Clone(testKey)
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	o.SecretKey[0] ^= 0xff
	if !bytes.Equal(l.opts.SecretKey, testKey) {
		t.Error("changing the caller's key slice after New changed the key")
	}
}
