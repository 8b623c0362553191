package e2etest

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestLabLifecycle brings a lab up, checks its network, has the controller
// assign an IP, tears the lab down, and checks that nothing is left.
func TestLabLifecycle(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	l, err := lab.Up(ctx, lab.Options{Log: t.Output()})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = l.Close()
		}
	})
	t.Logf("lab up in %s", l.BringUp)
	pids := lab.TrackedPIDs()

	t.Run("network", func(t *testing.T) { checkNetwork(ctx, t, l) })
	t.Run("datapath", func(t *testing.T) { checkDatapath(ctx, t, l) })
	t.Run("assign", func(t *testing.T) { checkAssign(ctx, t, l) })

	closed = true
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	assertNothingLeft(t, pids)
}

// checkNetwork checks the lab's isolation and its router.
func checkNetwork(ctx context.Context, t *testing.T, l *lab.Lab) {
	namespaces, err := lab.LabNamespaces()
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 + len(l.Nodes); len(namespaces) != want {
		t.Errorf("namespaces = %v, want %d", namespaces, want)
	}
	for _, ns := range namespaces {
		for _, fam := range []string{"-4", "-6"} {
			out, err := lab.Exec(ctx, ns, "ip", fam, "route", "show", "default")
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("%s has a default route (%s): %q %v", ns, fam, out, err)
			}
		}
	}
	// The root namespace routes nothing into the lab but the apiserver link.
	for _, a := range []netip.Addr{l.Nodes[0].IPv4, lab.Client4, lab.UpstreamClient4} {
		out, _ := exec.CommandContext(ctx, "ip", "route", "get", a.String()).CombinedOutput()
		if strings.Contains(string(out), lab.RootVeth) {
			t.Errorf("the root namespace routes %s into the lab: %s", a, out)
		}
	}
	// Every node reaches the apiserver over the lab link.
	for _, n := range l.Nodes {
		out, err := lab.Exec(ctx, n.Netns, "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
			"--max-time", "3", l.Env.Config.Host+"/healthz")
		if err != nil || out == "000" {
			t.Errorf("%s cannot reach the apiserver at %s: %q %v", n.Name, l.Env.Config.Host, out, err)
		}
	}
	neighbors, err := lab.BGPNeighbors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(neighbors) != 2*len(l.Nodes) {
		t.Errorf("router neighbors = %v, want one IPv4 and one IPv6 per node", neighbors)
	}
}

// checkDatapath stands in for a speaker by hand: it puts an L2 address on
// node 1 and a route to a BGP address via node 2 on the router, then curls
// both from both clients. It proves the lab's DNAT and routing, not Herald.
func checkDatapath(ctx context.Context, t *testing.T, l *lab.Lab) {
	if len(l.Nodes) < 2 {
		t.Skip("needs two nodes")
	}
	l2 := netip.MustParseAddr("198.51.100.95")
	l2v6 := netip.MustParseAddr("2001:db8:1::1ff")
	bgp := netip.MustParseAddr("203.0.113.95")
	bgpv6 := netip.MustParseAddr("2001:db8:200::ff")
	n1, n2 := l.Nodes[0], l.Nodes[1]
	steps := [][]string{
		{n1.Netns, "ip", "addr", "add", l2.String() + "/32", "dev", lab.ClientIface},
		{n1.Netns, "ip", "addr", "add", l2v6.String() + "/128", "dev", lab.ClientIface, "nodad"},
		{lab.RouterNS, "ip", "route", "add", bgp.String() + "/32", "via", n2.IPv4.String()},
		{lab.RouterNS, "ip", "route", "add", bgpv6.String() + "/128", "via", n2.IPv6.String()},
	}
	for _, s := range steps {
		if out, err := lab.Exec(ctx, s[0], s[1:]...); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	want := map[netip.Addr]string{l2: n1.Name, l2v6: n1.Name, bgp: n2.Name, bgpv6: n2.Name}
	for _, client := range []string{lab.ClientNS, lab.UpstreamClientNS} {
		for addr, node := range want {
			if r := lab.Probe(ctx, client, addr, 80); r.Err != nil || r.Node != node {
				t.Errorf("curl %s from %s = %q, %v; want %s", addr, client, r.Node, r.Err, node)
			}
		}
	}
	rs := lab.ProbeN(ctx, lab.ClientNS, l2, 80, 3, 100*time.Millisecond)
	if len(rs) != 3 {
		t.Errorf("ProbeN made %d probes, want 3", len(rs))
	}
	// The BGP route above is a kernel route, not a BGP one, so only the
	// Layer 2 answers can name an announcer here.
	for _, addr := range []netip.Addr{l2, l2v6} {
		got, err := l.Announcers(ctx, addr)
		if err != nil || len(got) != 1 || got[0] != want[addr] {
			t.Errorf("announcers of %s = %v, %v; want [%s]", addr, got, err, want[addr])
		}
	}
}

// checkAssign has the real controller give a Service an IP from the sample
// Layer 2 pool.
func checkAssign(ctx context.Context, t *testing.T, l *lab.Lab) {
	if !lab.HasCommand("controller") {
		t.Skip("./controller is not written yet")
	}
	if !l.Controller.Running {
		t.Fatalf("controller: %s", l.Controller.Why)
	}
	applied, err := l.ApplySamples(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) == 0 {
		if err := l.ApplyDefaultConfig(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := l.PoolFor(ctx, lab.L2Pool4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateService(ctx, "e2e", "web", l.Nodes[:1], lab.WithPool(pool)); err != nil {
		t.Fatal(err)
	}
	svc, err := l.WaitForIPs(ctx, "e2e", "web", 1, 30*time.Second)
	if err != nil {
		t.Fatalf("%v\ncontroller log:\n%s", err, l.Controller.Procs[0].LogTail(20))
	}
	ip := lab.IngressIPs(svc)[0]
	if !lab.L2Pool4.Contains(ip) {
		t.Errorf("IP %s is not in the L2 pool %s", ip, lab.L2Pool4)
	}
	if got := svc.Annotations[lab.PoolAnnotation]; got != pool {
		t.Errorf("pool annotation = %q, want %q", got, pool)
	}
}

// assertNothingLeft checks for namespaces, processes, the root veth, FRR's
// dir, and an nftables table in the root namespace.
func assertNothingLeft(t *testing.T, pids []int) {
	t.Helper()
	for _, left := range lab.Leftovers() {
		t.Errorf("left behind: %s", left)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if !strings.Contains(string(stat), ") Z ") {
				t.Errorf("process %d still runs: %s", pid, stat)
			}
		}
	}
	out, err := exec.Command("nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Errorf("nft list tables: %v: %s", err, out)
	}
	if strings.Contains(string(out), "hlab") {
		t.Errorf("root namespace has a lab nftables table: %s", out)
	}
}

// buildLabCommand builds ./e2etest/cmd/lab into a temporary directory.
func buildLabCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lab")
	cmd := exec.Command("go", "build", "-o", bin, "./e2etest/cmd/lab")
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build lab: %v\n%s", err, out)
	}
	return bin
}

// startLabCommand runs `lab up -no-demo` and waits until it says the lab is up.
func startLabCommand(t *testing.T, bin string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "up", "-no-demo")
	cmd.Stderr = t.Output()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "lab is up") && !said {
				said = true
				up <- true
			}
		}
		if !said {
			up <- false
		}
	}()
	select {
	case ok := <-up:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("lab up exited before the lab was up: %v", cmd.ProcessState)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		t.Fatal("lab up did not come up within 2 minutes")
	}
	return cmd
}

// TestLabInterruptLeavesNothing sends SIGINT to `lab up` and checks that
// it tears everything down.
func TestLabInterruptLeavesNothing(t *testing.T) {
	lab.Require(t)
	cmd := startLabCommand(t, buildLabCommand(t))
	pids := lab.TrackedPIDs()
	if len(pids) == 0 {
		t.Fatal("the lab recorded no processes")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("lab up after SIGINT: %v", err)
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("lab up did not exit within 90s of SIGINT")
	}
	assertNothingLeft(t, pids)
}

// TestLabStaleCleanup kills `lab up` outright, as a crash would, and checks
// that `lab down` removes what it left.
func TestLabStaleCleanup(t *testing.T) {
	lab.Require(t)
	bin := buildLabCommand(t)
	cmd := startLabCommand(t, bin)
	pids := lab.TrackedPIDs()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if len(lab.Leftovers()) == 0 {
		t.Fatal("a killed lab left nothing: the test proves nothing")
	}
	down := exec.Command(bin, "down")
	down.Stdout, down.Stderr = t.Output(), t.Output()
	if err := down.Run(); err != nil {
		t.Fatalf("lab down: %v", err)
	}
	assertNothingLeft(t, pids)
}
