package bgp

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// listeners returns the TCP sockets this process listens on, read from
// /proc: the sockets among its file descriptors that /proc/net/tcp and
// tcp6 list in state LISTEN. Being the kernel's own view, it catches any
// listener, whoever opened it (a gRPC server, GoBGP, anything).
func listeners(t *testing.T) []netip.AddrPort {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("read /proc/self/fd: %v", err)
	}
	ours := map[string]bool{}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, "socket:[") {
			ours[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	var out []netip.AddrPort
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatalf("open %s: %v", file, err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			const listen = "0A"
			if len(fields) < 10 || fields[3] != listen || !ours[fields[9]] {
				continue
			}
			out = append(out, parseProcAddr(t, fields[1]))
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// parseProcAddr parses "0100007F:1F90": the address as 32-bit words in
// host (little-endian) order, then the port.
func parseProcAddr(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	host, portHex, _ := strings.Cut(s, ":")
	raw, err := hex.DecodeString(host)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port))
}

func (r *router) endpoint() netip.AddrPort { return netip.AddrPortFrom(r.addr, r.port) }

// TestNoListeners checks, in the kernel's view of this process, that the
// speaker opens no listener at all while its sessions dial out, even with
// Options.ListenPort set: no gRPC API, no port 179. The only listeners
// are the test routers'.
func TestNoListeners(t *testing.T) {
	if (&net.ListenConfig{}).MultipathTCP() {
		t.Error("Go listens with MPTCP, on which TCP MD5 fails: go.mod must keep godebug multipathtcp=0")
	}
	r4 := startRouter(t, "127.0.0.1", routerASN)
	r4.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN})
	r6 := startRouter(t, "::1", routerASN)
	r6.addNeighbor(neighbor{addr: "::1", asn: nodeASN})
	h := startSpeaker(t, func(o *Options) { o.ListenPort = int(freePort(t, netip.MustParseAddr("127.0.0.2"))) })
	h.set(desired(
		r4.session("v4", "127.0.0.2", withGR(), withNextHops("", "2001:db8::2")),
		r6.session("v6", "::1", withNextHops("198.51.100.2", "")),
	).with("v4", path("198.51.100.1/32")).with("v6", path("2001:db8:1::1/128")))
	h.waitEstablished("v4")
	h.waitEstablished("v6")
	want := []netip.AddrPort{r4.endpoint(), r6.endpoint()}
	slices.SortFunc(want, func(a, b netip.AddrPort) int { return a.Compare(b) })
	if got := listeners(t); !slices.Equal(got, want) {
		t.Errorf("listening on %v; only the test routers %v should", got, want)
	}
}

// TestPassiveSession checks that a passive session waits for the router
// to connect, with a TCP MD5 password, on its own source address and
// Options.ListenPort only, and stops listening when it goes.
func TestPassiveSession(t *testing.T) {
	requireTCPMD5(t)
	src := netip.MustParseAddr("127.0.0.5")
	port := freePort(t, src)
	r := startRouter(t, "127.0.0.1", routerASN)
	r.addNeighbor(neighbor{addr: src.String(), asn: nodeASN, password: "s3cret", dialPort: port})
	h := startSpeaker(t, func(o *Options) { o.ListenPort = int(port) })
	s := r.session("tor", src.String(), withFamilies(IPv4Unicast), withPassword("s3cret"), func(s *Session) {
		s.Passive = true
		s.PeerPort = 0
	})
	h.set(desired(s).with("tor", path("198.51.100.1/32")))
	if st := h.status("tor"); !st.Established && st.LastError != "passive: waiting for the router to connect to 127.0.0.5" {
		t.Errorf("LastError of a passive session not yet up: %q", st.LastError)
	}
	wantPaths(t, r, src.String(), map[string]string{"198.51.100.1/32": "nh " + src.String()})
	want := []netip.AddrPort{r.endpoint(), netip.AddrPortFrom(src, port)}
	if got := listeners(t); !slices.Equal(got, want) {
		t.Errorf("listening on %v, want %v", got, want)
	}

	h.set(Desired{})
	if got := listeners(t); !slices.Equal(got, want[:1]) {
		t.Errorf("listening on %v after the passive session went, want %v", got, want[:1])
	}
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000000000000000000001000000:00B3": "[::1]:179",
		"B80D0120000000000000000001000000:C383": "[2001:db8::1]:50051",
	} {
		if got := parseProcAddr(t, in).String(); got != want {
			t.Errorf("parseProcAddr(%q) = %s, want %s", in, got, want)
		}
	}
}
