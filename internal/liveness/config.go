package liveness

import (
	"log"

	"github.com/hashicorp/memberlist"
)

// memberlistConfig builds memberlist's configuration from normalized
// options: its LAN defaults, overridden by our timings, identity and key.
func memberlistConfig(o Options, std *log.Logger, meta *metaDelegate, ev *events, t memberlist.Transport) *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.Name = o.Name
	c.BindAddr = o.BindAddr.String()
	c.BindPort = o.BindPort
	c.AdvertiseAddr = o.AdvertiseAddr.String()
	c.AdvertisePort = o.AdvertisePort
	o.Timings.apply(c)

	// Every message is encrypted and authenticated, and nothing else is
	// accepted: a speaker with another key, or none, cannot join.
	c.SecretKey = append([]byte(nil), o.SecretKey...)
	c.GossipVerifyIncoming = true
	c.GossipVerifyOutgoing = true

	c.Logger = std
	c.Delegate = meta
	c.Events = ev
	c.Transport = t
	return c
}
