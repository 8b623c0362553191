// Package lab builds and tears down Herald's network lab on one machine: a
// real apiserver, node network namespaces on one L2 segment, an FRR router
// with an upstream LAN, and clients, with the controller and speakers as real
// processes. The address plan is in addrs.go.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heraldlb/herald/internal/testenv"
)

// HTTPPort is the port of each node's HTTP server, behind the DNAT.
const HTTPPort = 8080

// Options shape a lab.
type Options struct {
	// Nodes is the number of node namespaces; default 3.
	Nodes int
	// Log receives progress lines; default io.Discard.
	Log io.Writer
	// NoController leaves the controller out, for tests that run their own.
	NoController bool
	// ControllerArgs are extra controller flags, after the lab's own, so
	// that they win (for example, to serve metrics and pprof on loopback).
	ControllerArgs []string
	// NoSpeakers leaves the speakers out.
	NoSpeakers bool
	// SpeakerArgs returns a speaker's arguments; default DefaultSpeakerArgs.
	SpeakerArgs func(n Node, kubeconfig string) []string
	// SpeakerBin is a speaker binary to run instead of the one built from
	// ./speaker, so that a benchmark can compare two builds on one lab
	// setup; empty: build ./speaker.
	SpeakerBin string
	// SpeakerEnv is added to each speaker's environment (say, the
	// DaemonSet's GOGC and HERALD_MEMORY_LIMIT), after NODE_NAME.
	SpeakerEnv []string
	// BondedNodes (1-based) get a bond of two slaves for their LAN link
	// (see BondSlaves and FailOver); it needs a kernel with bonding.
	BondedNodes []int
	// GoBGPRouter adds a second router beside FRR: labgobgp, a GoBGP
	// server in Router2NS speaking iBGP with every node, and the BGPPeers
	// GoBGPPeers for it (see gobgp.go).
	GoBGPRouter bool
}

// DefaultSpeakerArgs are the speaker flags the lab passes to each node's
// speaker. It also sets NODE_NAME in the speaker's environment.
func DefaultSpeakerArgs(n Node, kubeconfig string) []string {
	return []string{"--kubeconfig=" + kubeconfig, "--node-name=" + n.Name, "--zap-time-encoding=rfc3339nano"}
}

// Component says whether a Herald binary is running in the lab.
type Component struct {
	Running bool
	// Why explains a component that is not running.
	Why   string
	Procs []*Proc
}

// Lab is a running lab. Close tears it down.
type Lab struct {
	Env   *testenv.Env
	Nodes []Node
	// Kubeconfig is the admin kubeconfig, at StateDir/kubeconfig; its
	// server is on the apiserver link, reachable from the root namespace
	// and from the node namespaces.
	Kubeconfig string
	// Controller and Speakers say what runs of Herald itself.
	Controller Component
	Speakers   Component
	// Router holds zebra and bgpd.
	Router []*Proc
	// Router2 is the second router (Options.GoBGPRouter), while it runs.
	Router2 *Proc
	// HTTP holds each node's HTTP server.
	HTTP []*Proc
	// BringUp is how long Up took.
	BringUp time.Duration

	log         io.Writer
	lock        *os.File
	start       time.Time
	speakerBin  string
	speakerEnv  []string
	speakerArgs func(Node, string) []string
	bonded      map[int]bool // Options.BondedNodes
}

// Up brings a lab up: it takes the machine's lab lock, removes a stale lab,
// and builds everything. On error it tears down what it built.
func Up(ctx context.Context, opts Options) (l *Lab, err error) {
	start := time.Now()
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Nodes < 1 || opts.Nodes > MaxNodes {
		return nil, fmt.Errorf("nodes: %d is not in 1..%d", opts.Nodes, MaxNodes)
	}
	bonded, err := bondedSet(opts)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.SpeakerArgs == nil {
		opts.SpeakerArgs = DefaultSpeakerArgs
	}
	if err := CheckDeps(); err != nil {
		return nil, err
	}
	bin, err := testenv.BinDir()
	if err != nil {
		return nil, err
	}
	f, err := lock()
	if err != nil {
		return nil, err
	}
	l = &Lab{lock: f, log: opts.Log, start: start, bonded: bonded}
	defer func() {
		if err != nil {
			if cerr := l.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("tear down after failure: %w", cerr))
			}
			l = nil
		}
	}()
	if err := cleanup(ctx); err != nil {
		return l, fmt.Errorf("remove stale lab: %w", err)
	}
	if err := resetStateDir(); err != nil {
		return l, err
	}
	// The builds run while the network and the apiserver come up.
	l.logf("building labhttp, controller and speaker in the background")
	b := startBuilds(ctx, commands(opts)...)
	defer b.wait()

	l.logf("creating namespaces and links (%d nodes)", opts.Nodes)
	if err := buildNetwork(ctx, opts.Nodes, l.bonded); err != nil {
		return l, err
	}
	for i := 1; i <= opts.Nodes; i++ {
		v4, v6 := NodeAddrs(i)
		l.Nodes = append(l.Nodes, Node{Name: NodeName(i), Netns: NodeNS(i), IPv4: v4, IPv6: v6})
	}

	l.logf("starting etcd and kube-apiserver on %s (from %s)", APIServerAddr, bin)
	env, err := startControlPlane()
	if err != nil {
		return l, err
	}
	l.Env = env
	if err := recordChildren("etcd", "kube-apiserver"); err != nil {
		return l, err
	}
	port, err := apiPort(env.Config.Host)
	if err != nil {
		return l, err
	}
	if err := nftApply(ctx, BridgeNS, apiLinkRuleset(port)); err != nil {
		return l, err
	}
	l.Kubeconfig = env.Kubeconfig
	if err := createNodes(ctx, env.Client, l.Nodes); err != nil {
		return l, err
	}
	if err := ensureNamespace(ctx, env.Client, HeraldNamespace); err != nil {
		return l, err
	}

	if why := b.wait()["e2etest/cmd/labhttp"]; why != "" {
		return l, errors.New(why)
	}
	l.logf("starting the node HTTP servers and their DNAT")
	for _, n := range l.Nodes {
		if err := nftApply(ctx, n.Netns, nodeRuleset(HTTPPort)); err != nil {
			return l, err
		}
		p, err := startProc("labhttp-"+n.Name, n.Netns, nil,
			filepath.Join(StateDir, "bin", "labhttp"), "--name="+n.Name, fmt.Sprintf("--listen=:%d", HTTPPort))
		if err != nil {
			return l, err
		}
		l.HTTP = append(l.HTTP, p)
	}

	l.logf("starting FRR (zebra, bgpd) in %s", RouterNS)
	l.Router, err = startRouter(ctx, opts.Nodes)
	if err != nil {
		return l, err
	}

	if opts.GoBGPRouter {
		if err := l.upGoBGP(ctx, b.wait()["e2etest/cmd/labgobgp"]); err != nil {
			return l, err
		}
	}

	if !opts.NoController {
		l.Controller = l.startController(b.wait()["controller"], opts.ControllerArgs)
		l.logf("controller: %s", l.Controller.describe())
	}
	if !opts.NoSpeakers {
		if err := ensureMemberlistSecret(ctx, env.Client); err != nil {
			return l, err
		}
		l.speakerEnv = opts.SpeakerEnv
		l.Speakers = l.startSpeakers(b.wait()["speaker"], opts.SpeakerBin, opts.SpeakerArgs)
		l.logf("speakers: %s", l.Speakers.describe())
	}
	l.BringUp = time.Since(start)
	return l, nil
}

// commands are the tree's commands a lab with opts runs.
func commands(opts Options) []string {
	cmds := []string{"e2etest/cmd/labhttp", "e2etest/cmd/labprobe", "controller", "speaker"}
	if opts.GoBGPRouter {
		cmds = append(cmds, "e2etest/cmd/labgobgp")
	}
	return cmds
}

// upGoBGP builds the second router's namespace, starts it, and creates
// its BGPPeers.
func (l *Lab) upGoBGP(ctx context.Context, why string) error {
	if why != "" {
		return errors.New(why)
	}
	l.logf("starting GoBGP (labgobgp) in %s", Router2NS)
	if err := buildRouter2(ctx); err != nil {
		return err
	}
	if err := l.StartGoBGP(ctx, BGPPassword); err != nil {
		return err
	}
	return createGoBGPPeers(ctx, l.Env.Client)
}

func (c Component) describe() string {
	if c.Running {
		var pids []string
		for _, p := range c.Procs {
			pids = append(pids, strconv.Itoa(p.Pid()))
		}
		return "running (pid " + strings.Join(pids, ", ") + ")"
	}
	return "not running: " + c.Why
}

// startController builds ./controller and runs it in the root namespace.
func (l *Lab) startController(why string, extra []string) Component {
	bin := filepath.Join(StateDir, "bin", "controller")
	if why != "" {
		return Component{Why: why}
	}
	args := append([]string{bin,
		"--kubeconfig=" + l.Kubeconfig,
		"--leader-elect=true",
		"--leader-election-namespace=" + HeraldNamespace,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=0",
	}, extra...)
	p, err := startProc("controller", "", nil, args...)
	if err != nil {
		return Component{Why: err.Error()}
	}
	return Component{Running: true, Procs: []*Proc{p}}
}

// startSpeakers runs the built ./speaker, or bin if given, on every node,
// in the node's namespace, with the node's name.
func (l *Lab) startSpeakers(why, bin string, args func(Node, string) []string) Component {
	l.speakerBin, l.speakerArgs = filepath.Join(StateDir, "bin", "speaker"), args
	if bin != "" {
		l.speakerBin, why = bin, ""
	}
	if why != "" {
		return Component{Why: why}
	}
	c := Component{Running: true}
	for _, n := range l.Nodes {
		p, err := l.startSpeaker(n)
		if err != nil {
			return Component{Why: err.Error(), Procs: c.Procs}
		}
		c.Procs = append(c.Procs, p)
	}
	return c
}

func (l *Lab) startSpeaker(n Node) (*Proc, error) {
	return startProc("speaker-"+n.Name, n.Netns, append([]string{"NODE_NAME=" + n.Name}, l.speakerEnv...),
		append([]string{l.speakerBin}, l.speakerArgs(n, l.Kubeconfig)...)...)
}

// ErrNotInTree means a Herald command is not written yet.
var ErrNotInTree = errors.New("not in this tree yet")

// builds runs `go build` for commands of the tree into StateDir/bin.
type builds struct {
	done chan struct{}
	why  map[string]string
}

// startBuilds builds each package (a path in the tree) in the background.
func startBuilds(ctx context.Context, pkgs ...string) *builds {
	b := &builds{done: make(chan struct{}), why: map[string]string{}}
	go func() {
		defer close(b.done)
		for _, pkg := range pkgs {
			if !HasCommand(pkg) {
				b.why[pkg] = fmt.Sprintf("./%s is %s", pkg, ErrNotInTree)
				continue
			}
			if err := GoBuild(ctx, "./"+pkg, filepath.Join(StateDir, "bin", filepath.Base(pkg))); err != nil {
				b.why[pkg] = err.Error()
			}
		}
	}()
	return b
}

// wait returns, once every build is done, why each package that failed
// could not be built.
func (b *builds) wait() map[string]string {
	<-b.done
	return b.why
}

// HasCommand reports whether ./pkg holds Go files in the source tree.
func HasCommand(pkg string) bool {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), pkg, "*.go"))
	return len(files) > 0
}

// GoBuild builds the tree's package pkg (such as "./controller") into out.
func GoBuild(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = testenv.RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return nil
}

func apiPort(host string) (int, error) {
	u, err := url.Parse(host)
	if err != nil {
		return 0, fmt.Errorf("parse apiserver address %q: %w", host, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("parse apiserver port in %q: %w", host, err)
	}
	return port, nil
}

func (l *Lab) logf(format string, args ...any) {
	fmt.Fprintf(l.log, "lab [%5.1fs]: "+format+"\n", append([]any{time.Since(l.start).Seconds()}, args...)...)
}

// Close tears the lab down: Herald's processes, FRR and the HTTP servers,
// the apiserver, every hlab-* namespace and the root veth. It is safe to call
// more than once, and it releases the lab lock last.
func (l *Lab) Close() error {
	if l == nil || l.lock == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errs []error
	// Speakers first, so they can leave memberlist and withdraw cleanly
	// while the network is still there.
	for _, group := range [][]*Proc{l.Speakers.Procs, l.Controller.Procs, l.HTTP, l.Router} {
		for _, p := range group {
			p.Stop(5 * time.Second)
		}
	}
	l.StopGoBGP()
	if l.Env != nil {
		if err := l.Env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop apiserver: %w", err))
		}
		l.Env = nil
	}
	if err := cleanup(ctx); err != nil {
		errs = append(errs, err)
	}
	_ = os.Remove(filepath.Join(StateDir, "kubeconfig"))
	if err := l.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("release lab lock: %w", err))
	}
	l.lock = nil
	return errors.Join(errs...)
}

// cleanup removes everything a lab may have left: tracked processes,
// processes in lab namespaces, the namespaces (their nftables tables go with
// them), the root veth and FRR's socket dir. The caller holds the lock.
func cleanup(ctx context.Context) error {
	var errs []error
	errs = append(errs, killTracked(3*time.Second)...)
	namespaces, err := LabNamespaces()
	if err != nil {
		errs = append(errs, err)
	}
	killNamespaceProcs(ctx, namespaces)
	for _, ns := range namespaces {
		if _, err := run(ctx, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	// Deleting hlab-br deletes the veth's peer and so, asynchronously, the
	// veth itself: it may vanish between the check and the delete.
	if rootVethExists() {
		if _, err := run(ctx, "ip", "link", "del", RootVeth); err != nil && rootVethExists() {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(FRRRunDir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", FRRRunDir, err))
	}
	if err := removeTmpDirs(); err != nil {
		errs = append(errs, err)
	}
	if err := os.Remove(pidsFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", pidsFile, err))
	}
	return errors.Join(errs...)
}

// Down removes a lab: it asks a running lab's process to stop (SIGTERM) and
// waits for it, then removes whatever a crashed lab left behind.
func Down(ctx context.Context, log io.Writer) error {
	f, err := lock()
	if errors.Is(err, ErrBusy) {
		pid := lockHolder()
		if pid <= 0 {
			return err
		}
		fmt.Fprintf(log, "lab: asking the running lab (pid %d) to stop\n", pid)
		if p, ferr := os.FindProcess(pid); ferr == nil {
			_ = p.Signal(syscall.SIGTERM)
		}
		werr := waitFor(ctx, 90*time.Second, func() bool {
			f, err = lock()
			return err == nil
		})
		if werr != nil {
			return fmt.Errorf("lab (pid %d) did not stop: %w", pid, werr)
		}
	} else if err != nil {
		return err
	}
	defer f.Close()
	if err := cleanup(ctx); err != nil {
		return err
	}
	return os.RemoveAll(StateDir)
}

// Leftovers lists what a lab would leave behind if teardown failed: hlab-*
// namespaces, live tracked processes, the root veth, FRR's socket dir.
func Leftovers() []string {
	var out []string
	namespaces, err := LabNamespaces()
	if err != nil {
		out = append(out, err.Error())
	}
	for _, ns := range namespaces {
		out = append(out, "namespace "+ns)
	}
	for _, p := range readTracked() {
		if p.alive() {
			out = append(out, fmt.Sprintf("process %s (pid %d)", p.name, p.pid))
		}
	}
	if rootVethExists() {
		out = append(out, "root veth "+RootVeth)
	}
	if _, err := os.Stat(FRRRunDir); err == nil {
		out = append(out, "FRR dir "+FRRRunDir)
	}
	return out
}

// TrackedPIDs returns the pids of the processes this lab recorded, so a test
// can check after Close that none survived.
func TrackedPIDs() []int {
	var out []int
	for _, p := range readTracked() {
		out = append(out, p.pid)
	}
	return out
}
