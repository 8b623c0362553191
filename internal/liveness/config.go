package liveness

import (
	"log"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig builds memberlist's configuration from normalized
// options: its LAN defaults, overridden by our timings, identity and
// keyring.
func memberlistConfig(o Options, kr *memberlist.Keyring, std *log.Logger, meta *metaDelegate, ev *events, t memberlist.Transport) *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.Name = o.Name
	c.BindAddr = o.BindAddr.String()
	c.BindPort = o.BindPort
	c.AdvertiseAddr = o.AdvertiseAddr.String()
	c.AdvertisePort = o.AdvertisePort
	o.Timings.apply(c)

	// Every message is encrypted and authenticated, and nothing else is
	// accepted: a speaker with none of our keys, or no key, cannot join.
	// The keyring is shared, not copied, so that SetKeys rotates the keys of
	// the running memberlist; SecretKey stays unset, or memberlist would
	// install it again as the primary.
	c.Keyring = kr
	c.GossipVerifyIncoming = true
	c.GossipVerifyOutgoing = true

	c.Logger = std
	c.Delegate = meta
	c.Events = ev
	c.Transport = t
	return c
}
