package layer2

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
)

// The root-only tests build their own lab: two network namespaces named
// hl2t-<pid>-<test>-{s,c}, the speaker's and a client's, joined by a veth
// pair hl2s–hl2c, with addresses from 198.51.100.0/24 and 2001:db8::/64
// and no default route. Every packet stays inside them.

const (
	speakerIface = "hl2s"
	clientIface  = "hl2c"
	etherTypeAll = 0x0003 // ETH_P_ALL
)

// needRoot skips the test when it cannot run here, or fails it under CI,
// where a missing dependency is a fault of the machine.
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root to create network namespaces and packet sockets")
	}
	for _, tool := range append([]string{"ip", "sysctl"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, fmt.Sprintf("needs %s on the PATH: %v", tool, err))
		}
	}
}

// missing skips the test for want of something this machine lacks, or
// fails it under CI.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// vethLab is a speaker namespace and a client namespace joined by a veth
// pair.
type vethLab struct {
	speaker, client string // namespace names
	// clientLink is the client's interface on the segment, where the
	// capture listens and the probes ask.
	clientLink string
	// speakerMAC is the MAC the Announcer must answer with.
	speakerMAC net.HardwareAddr
}

func newVethLab(t *testing.T, name string) vethLab {
	t.Helper()
	l := newNamespaces(t, name)
	l.addVeth(t)
	return l
}

// newNamespaces creates the two namespaces, with only lo up, and deletes
// them when the test ends, also after a failure.
func newNamespaces(t *testing.T, name string) vethLab {
	t.Helper()
	prefix := fmt.Sprintf("hl2t-%d-%s", os.Getpid(), name)
	l := vethLab{speaker: prefix + "-s", client: prefix + "-c", clientLink: clientIface}
	for _, ns := range []string{l.speaker, l.client} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("delete namespace %s: %v: %s", ns, err, out)
			}
		})
		ip(t, "-n", ns, "link", "set", "lo", "up")
	}
	return l
}

// addVeth creates the veth pair with its addresses, brings it up, waits
// until both ends can be used, and records the speaker end's MAC. A test
// that deleted the pair calls it again to re-create it under the same
// names, with new interface indexes.
func (l *vethLab) addVeth(t *testing.T) {
	t.Helper()
	ip(t, "-n", l.speaker, "link", "add", "name", speakerIface, "type", "veth", "peer", "name", clientIface, "netns", l.client)
	l.bringUp(t, speakerIface, clientIface)
}

// bringUp gives the speaker's and the client's links their addresses,
// brings them up, waits until both can be used, and records the speaker
// link's MAC.
func (l *vethLab) bringUp(t *testing.T, speakerLink, clientLink string) {
	t.Helper()
	// No duplicate address detection: addresses are usable at once.
	l.exec(t, l.speaker, "sysctl", "-qw", "net.ipv6.conf."+speakerLink+".accept_dad=0")
	l.exec(t, l.client, "sysctl", "-qw", "net.ipv6.conf."+clientLink+".accept_dad=0")
	ip(t, "-n", l.speaker, "addr", "add", "198.51.100.1/24", "dev", speakerLink)
	ip(t, "-n", l.speaker, "addr", "add", "2001:db8::1/64", "dev", speakerLink, "nodad")
	ip(t, "-n", l.client, "addr", "add", "198.51.100.2/24", "dev", clientLink)
	ip(t, "-n", l.client, "addr", "add", "2001:db8::2/64", "dev", clientLink, "nodad")
	ip(t, "-n", l.speaker, "link", "set", speakerLink, "up")
	ip(t, "-n", l.client, "link", "set", clientLink, "up")
	// Carrier and IPv6 come up asynchronously (the kernel's link watch
	// may take a second): wait for a link-local address on both ends.
	l.waitLinkLocal(t, l.speaker, speakerLink)
	l.waitLinkLocal(t, l.client, clientLink)
	l.speakerMAC = l.mac(t, l.speaker, speakerLink)
}

// waitLinkLocal waits until iface in ns has a usable link-local address.
func (l vethLab) waitLinkLocal(t *testing.T, ns, iface string) {
	t.Helper()
	waitUntil(t, iface+" has a link-local address", func() bool {
		out, err := l.try(ns, "ip", "-6", "-o", "addr", "show", "dev", iface, "scope", "link")
		return err == nil && strings.Contains(out, "fe80::") && !strings.Contains(out, "tentative")
	})
}

// mac returns the hardware address of an interface in a namespace.
func (l vethLab) mac(t *testing.T, ns, iface string) net.HardwareAddr {
	t.Helper()
	var mac net.HardwareAddr
	l.inNetns(t, ns, func() error {
		ifi, err := net.InterfaceByName(iface)
		if err == nil {
			mac = ifi.HardwareAddr
		}
		return err
	})
	return mac
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// exec runs a command in a namespace and fails the test if it fails.
func (l vethLab) exec(t *testing.T, ns string, argv ...string) string {
	t.Helper()
	out, err := l.try(ns, argv...)
	if err != nil {
		t.Fatalf("%s in %s: %v: %s", strings.Join(argv, " "), ns, err, out)
	}
	return out
}

// try runs a command in a namespace, for commands expected to fail.
func (l vethLab) try(ns string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// inNetns runs fn on an OS thread moved into the namespace, and fails the
// test if fn or the move fails. fn reports errors instead of calling
// t.Fatal, because it runs on its own goroutine.
func (l vethLab) inNetns(t *testing.T, ns string, fn func() error) {
	t.Helper()
	if err := <-goInNetns(ns, fn); err != nil {
		t.Fatalf("in namespace %s: %v", ns, err)
	}
}

// goInNetns runs fn on a goroutine locked to an OS thread in the named
// namespace and sends its result. The thread goes back to its namespace afterwards; if it cannot, it stays
// locked, so that the runtime ends it with the goroutine instead of
// running other goroutines in the wrong namespace.
func goInNetns(name string, fn func() error) <-chan error {
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			res <- fmt.Errorf("get the current namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(name)
		if err != nil {
			runtime.UnlockOSThread()
			res <- fmt.Errorf("open namespace %s: %w", name, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			res <- fmt.Errorf("enter namespace %s: %w", name, err)
			return
		}
		err = fn()
		if rerr := netns.Set(orig); rerr != nil {
			res <- fmt.Errorf("return from namespace %s: %w (after %v)", name, rerr, err)
			return
		}
		runtime.UnlockOSThread()
		res <- err
	}()
	return res
}

// capture records every frame on the client's interface.
type capture struct {
	conn   *packet.Conn
	frames chan []byte
}

func (l vethLab) capture(t *testing.T) *capture {
	t.Helper()
	c := &capture{frames: make(chan []byte, 4096)}
	l.inNetns(t, l.client, func() error {
		ifi, err := net.InterfaceByName(l.clientLink)
		if err != nil {
			return err
		}
		c.conn, err = packet.Listen(ifi, packet.Raw, etherTypeAll, nil)
		return err
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 9000)
		for {
			n, _, err := c.conn.ReadFrom(buf)
			if err != nil {
				return // closed by the cleanup
			}
			select {
			case c.frames <- bytes.Clone(buf[:n]):
			default: // a full buffer drops frames; waits then time out
			}
		}
	}()
	t.Cleanup(func() {
		if err := c.conn.Close(); err != nil {
			t.Errorf("close capture: %v", err)
		}
		<-done
	})
	return c
}

// frameMatch names a kind of frame a test waits for.
type frameMatch struct {
	what  string
	match func([]byte) bool
}

// waitEach waits until each of matches has accepted n captured frames, so
// that frames of one kind arriving between those of another are counted,
// not skipped.
func (c *capture) waitEach(t *testing.T, n int, matches ...frameMatch) {
	t.Helper()
	seen := make([]int, len(matches))
	done := func() bool {
		return !slices.ContainsFunc(seen, func(s int) bool { return s < n })
	}
	deadline := time.After(waitFor)
	for !done() {
		select {
		case f := <-c.frames:
			for i, m := range matches {
				if m.match(f) {
					seen[i]++
				}
			}
		case <-deadline:
			for i, m := range matches {
				if seen[i] < n {
					t.Fatalf("%d of %d %s arrived", seen[i], n, m.what)
				}
			}
		}
	}
}

// waitFrame waits for a captured frame that match accepts.
func (c *capture) waitFrame(t *testing.T, what string, match func([]byte) bool) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s arrived", what)
		}
	}
}
