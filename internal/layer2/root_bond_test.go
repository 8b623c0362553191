package layer2

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// The bond lab: in the speaker's namespace an active-backup bond hl2bond
// over two veths hl2a and hl2b, whose MAC follows the active slave
// (fail_over_mac=active); in the client's, their peers hl2ca and hl2cb in
// one bridge hl2br, so that the client reaches the bond over either slave.
// The bond drops what arrives on its backup slave, so the two paths make
// no loop.
const (
	bondIface    = "hl2bond"
	clientBridge = "hl2br"
)

var bondSlaves = []struct{ slave, peer string }{{"hl2a", "hl2ca"}, {"hl2b", "hl2cb"}}

func newBondLab(t *testing.T, name string) vethLab {
	t.Helper()
	l := newNamespaces(t, name)
	l.clientLink = clientBridge
	if out, err := l.try(l.speaker, "ip", "link", "add", "name", bondIface, "type", "bond",
		"mode", "active-backup", "fail_over_mac", "active", "miimon", "100"); err != nil {
		if kernelWithout("CONFIG_BONDING") {
			// Not a dependency the project could install: the kernel
			// itself cannot make a bond, in CI too.
			t.Skip("this kernel is built without bonding (/proc/config.gz: CONFIG_BONDING is not set), so no bond can be made here")
		}
		missing(t, fmt.Sprintf("cannot create an active-backup bond with fail_over_mac=active: %v: %s", err, out))
	}
	ip(t, "-n", l.client, "link", "add", "name", clientBridge, "type", "bridge", "forward_delay", "0", "mcast_snooping", "0")
	for _, s := range bondSlaves {
		ip(t, "-n", l.speaker, "link", "add", "name", s.slave, "type", "veth", "peer", "name", s.peer, "netns", l.client)
		ip(t, "-n", l.speaker, "link", "set", s.slave, "master", bondIface)
		ip(t, "-n", l.client, "link", "set", s.peer, "master", clientBridge)
		ip(t, "-n", l.client, "link", "set", s.peer, "up")
	}
	l.bringUp(t, bondIface, clientBridge)
	return l
}

// activeSlave returns the slave whose MAC the bond has, which with
// fail_over_mac=active is the active one.
func (l vethLab) activeSlave(t *testing.T) (active, backup string) {
	t.Helper()
	mac := l.mac(t, l.speaker, bondIface)
	for i, s := range bondSlaves {
		if bytes.Equal(l.mac(t, l.speaker, s.slave), mac) {
			return s.slave, bondSlaves[1-i].slave
		}
	}
	t.Fatalf("%s has MAC %s, which no slave has: is fail_over_mac active?", bondIface, mac)
	return "", ""
}

// TestRealBondFailover announces on a bond, fails its active slave, and
// checks that after the next Set with the same pairs, as the shell makes on
// the link change, the client gets a whole burst naming the bond's new MAC
// and answers from it (issue 16, defect 5).
func TestRealBondFailover(t *testing.T) {
	needRoot(t, "arping", "ndisc6")
	l := newBondLab(t, "bond")
	capt := l.capture(t)
	setAgain := l.startAnnouncer(t, pairs(vip4, bondIface, vip6, bondIface))
	setAgain(t)
	l.wantAnswering(t, capt)

	active, backup := l.activeSlave(t)
	ip(t, "-n", l.speaker, "link", "set", active, "down")
	newMAC := l.mac(t, l.speaker, backup)
	waitUntil(t, bondIface+" takes "+backup+"'s MAC "+newMAC.String(), func() bool {
		out, err := l.try(l.speaker, "ip", "-br", "link", "show", "dev", bondIface)
		return err == nil && strings.Contains(out, newMAC.String())
	})
	l.speakerMAC = newMAC
	setAgain(t)
	l.wantAnswering(t, capt)
}

// kernelWithout reports whether the running kernel's configuration says
// option is not set; false when the configuration cannot be read.
func kernelWithout(option string) bool {
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return false
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	b, err := io.ReadAll(z)
	return err == nil && bytes.Contains(b, []byte("# "+option+" is not set"))
}
