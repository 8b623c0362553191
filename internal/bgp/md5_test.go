package bgp

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// requireTCPMD5 skips the test when this kernel or user cannot set TCP
// MD5 keys, and fails it instead under CI=true.
func requireTCPMD5(t *testing.T) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	defer unix.Close(fd)
	sig := &unix.TCPMD5Sig{Keylen: 1}
	sig.Addr.Family = unix.AF_INET
	copy(sig.Key[:], "k")
	err = unix.SetsockoptTCPMD5Sig(fd, unix.IPPROTO_TCP, unix.TCP_MD5SIG, sig)
	if err == nil {
		return
	}
	why := fmt.Sprintf("TCP MD5 is unavailable: setsockopt TCP_MD5SIG: %v", err)
	if errors.Is(err, syscall.EPERM) && os.Geteuid() != 0 {
		why += " (not root)"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// TestMD5 checks TCP MD5 passwords on loopback: a matching password
// establishes the session; a wrong or missing one leaves it down, with a
// LastError that names the password as a possible cause, since the
// router's kernel drops such segments without answering.
func TestMD5(t *testing.T) {
	requireTCPMD5(t)
	tests := []struct {
		name          string
		router, ours  string
		wantUp        bool
		wantLastError []string
	}{
		{"matching", "s3cret", "s3cret", true, nil},
		{"wrong", "s3cret", "wrong", false, []string{"no answer from 127.0.0.1:", "within 1s", "the router has another TCP MD5 password, or none"}},
		{"missing on our side", "s3cret", "", false, []string{"no answer from 127.0.0.1:", "the router requires a TCP MD5 password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRouter(t, "127.0.0.1", routerASN)
			r.addNeighbor(neighbor{addr: "127.0.0.2", asn: nodeASN, password: tc.router})
			h := startSpeakerV(t, vGoBGPDebug)
			h.set(desired(r.session("tor", "127.0.0.2", withFamilies(IPv4Unicast), withPassword(tc.ours))).with("tor", path("198.51.100.1/32")))
			if tc.wantUp {
				wantPaths(t, r, "127.0.0.2", map[string]string{"198.51.100.1/32": "nh 127.0.0.2"})
				h.waitEstablished("tor")
				return
			}
			eventually(t, 30*time.Second, "two connection attempts", func() error {
				if n := len(h.log.matching("failed to connect")); n < 2 {
					return fmt.Errorf("%d attempts", n)
				}
				return nil
			})
			st := h.status("tor")
			for _, w := range tc.wantLastError {
				if !strings.Contains(st.LastError, w) {
					t.Errorf("LastError %q does not say %q", st.LastError, w)
				}
			}
			if st.Established || r.established("127.0.0.2") {
				t.Errorf("established with a wrong password: %+v", st)
			}
		})
	}
}
