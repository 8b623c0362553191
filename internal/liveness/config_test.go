package liveness

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

func TestMemberlistConfig(t *testing.T) {
	o := validOptions()
	o.BindAddr = netip.MustParseAddr("198.51.100.10")
	o.BindPort, o.AdvertisePort = 7000, 7001
	o, err := o.normalize()
	if err != nil {
		t.Fatal(err)
	}
	std := newStdLogger(o.Log)
	meta, ev := &metaDelegate{}, newEvents(o.Log, o.Metrics, o.Name, time.Now)
	kr, err := newKeyring(o.keys())
	if err != nil {
		t.Fatal(err)
	}
	c := memberlistConfig(o, kr, std, meta, ev, nil)

	if c.Name != "node-1" || c.BindAddr != "198.51.100.10" || c.BindPort != 7000 || c.AdvertiseAddr != "198.51.100.10" || c.AdvertisePort != 7001 {
		t.Errorf("identity: name %q bind %s:%d advertise %s:%d", c.Name, c.BindAddr, c.BindPort, c.AdvertiseAddr, c.AdvertisePort)
	}
	if c.Keyring != kr || !bytes.Equal(c.Keyring.GetPrimaryKey(), testKey) || !c.GossipVerifyIncoming || !c.GossipVerifyOutgoing {
		t.Errorf("encryption: our keyring %v, its primary is the key %v, verify incoming %v, outgoing %v; want the keyring and both on", c.Keyring == kr, bytes.Equal(c.Keyring.GetPrimaryKey(), testKey), c.GossipVerifyIncoming, c.GossipVerifyOutgoing)
	}
	// memberlist would install a SecretKey as the primary at Create, over
	// the keyring's: the keyring alone says which key is in use.
	if c.SecretKey != nil {
		t.Errorf("SecretKey is set (%d bytes) beside the keyring", len(c.SecretKey))
	}
	if c.ProbeInterval != o.Timings.ProbeInterval || c.SuspicionMult != o.Timings.SuspicionMult {
		t.Errorf("timings not applied: probe interval %v, suspicion mult %d", c.ProbeInterval, c.SuspicionMult)
	}
	// memberlist refuses a config with both a Logger and a LogOutput.
	if c.Logger != std || c.LogOutput != nil {
		t.Errorf("logging: Logger %p (want %p), LogOutput %v (want nil)", c.Logger, std, c.LogOutput)
	}
	if c.Delegate != meta || c.Events != ev {
		t.Error("delegates not set")
	}
}
