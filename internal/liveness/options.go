package liveness

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
	"k8s.io/utils/clock"
)

// DefaultPort is memberlist's usual port, for both UDP and TCP.
const DefaultPort = 7946

var (
	// ErrNoKey is New's error when SecretKey is missing or not 16, 24 or 32
	// bytes long: speakers never gossip in the clear.
	ErrNoKey = errors.New("the memberlist secret key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256), the same on every speaker")
	// ErrInvalidOptions is New's error for any other bad option.
	ErrInvalidOptions = errors.New("invalid liveness options")
)

// Options configure a Liveness.
type Options struct {
	// Name is this node's name (the Kubernetes node name); required. It must
	// be unique among the speakers.
	Name string
	// BindAddr is where memberlist listens. Default: the unspecified address
	// of AdvertiseAddr's family (all addresses).
	BindAddr netip.Addr
	// BindPort is memberlist's UDP and TCP port. Default: DefaultPort.
	BindPort int
	// AdvertiseAddr is the address other speakers reach this one at;
	// required.
	AdvertiseAddr netip.Addr
	// AdvertisePort is the port other speakers reach this one at. Default:
	// BindPort.
	AdvertisePort int
	// SecretKey is the gossip encryption key, 16, 24 or 32 bytes; required.
	// It is the keyring's primary: what this speaker encrypts with.
	SecretKey []byte
	// SecondaryKeys are also accepted from the others, each 16, 24 or 32
	// bytes: a key being rotated in or out (see SetKeys).
	SecondaryKeys [][]byte
	// Timings tune failure detection; zero fields take DefaultTimings'
	// values.
	Timings Timings
	// Log receives this package's logs and memberlist's.
	Log logr.Logger
	// Clock drives the rejoin loop; nil: the real clock.
	Clock clock.WithTicker
	// Metrics receives membership metrics; nil: unregistered collectors.
	Metrics *Metrics
	// Transport, if not nil, is called once by Run for the transport
	// memberlist sends and receives through, instead of UDP and TCP sockets
	// on BindAddr. It exists so that a simulation can run hundreds of
	// speakers, with this package's real configuration, on one in-memory
	// network (e2etest/cmd/gossipsim); the speaker leaves it nil.
	Transport func() (memberlist.NodeAwareTransport, error)
}

// normalize validates o and fills in its defaults. It copies the keys, so
// the caller may reuse their slices.
func (o Options) normalize() (Options, error) {
	keys := o.keys()
	if err := keys.validate(); err != nil {
		return Options{}, err
	}
	keys = keys.clone()
	o.SecretKey, o.SecondaryKeys = keys.Primary, keys.Secondary
	if o.Name == "" {
		return Options{}, fmt.Errorf("a node name is required: %w", ErrInvalidOptions)
	}
	if !o.AdvertiseAddr.IsValid() || o.AdvertiseAddr.IsUnspecified() {
		return Options{}, fmt.Errorf("an advertise address is required, not %q: %w", o.AdvertiseAddr, ErrInvalidOptions)
	}
	o.AdvertiseAddr = o.AdvertiseAddr.Unmap()
	if !o.BindAddr.IsValid() {
		o.BindAddr = BindAddrFor(o.AdvertiseAddr, true)
	}
	if o.BindPort == 0 {
		o.BindPort = DefaultPort
	}
	if o.AdvertisePort == 0 {
		o.AdvertisePort = o.BindPort
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"bind", o.BindPort}, {"advertise", o.AdvertisePort}} {
		if p.v < 1 || p.v > 65535 {
			return Options{}, fmt.Errorf("%s port %d is out of range: %w", p.name, p.v, ErrInvalidOptions)
		}
	}
	t, err := o.Timings.withDefaults()
	if err != nil {
		return Options{}, err
	}
	o.Timings = t
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	return o, nil
}

// keys is the keyring the options start with.
func (o Options) keys() Keys {
	return Keys{Primary: o.SecretKey, Secondary: o.SecondaryKeys}
}

// self is the address the other speakers know this one by.
func (o Options) self() netip.AddrPort {
	return netip.AddrPortFrom(o.AdvertiseAddr, uint16(o.AdvertisePort))
}
