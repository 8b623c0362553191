package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Namespace names. Every lab namespace starts with NSPrefix, and cleanup
// removes every namespace with that prefix.
const (
	NSPrefix         = "hlab-"
	BridgeNS         = "hlab-br"
	RouterNS         = "hlab-router"
	ClientNS         = "hlab-client"
	UpstreamClientNS = "hlab-up-client"
	// Client2NS is a client on the second LAN, which nodes reach on eth1.
	Client2NS = "hlab-client2"

	// RootVeth is the root namespace's end of the apiserver link.
	RootVeth = "hlab-api"
	// ClientIface is the interface of every node and client on its LAN.
	ClientIface = "eth0"
	// LAN2Iface is each node's interface on the second LAN.
	LAN2Iface = "eth1"
)

// NodeNS returns the namespace of node i (1-based).
func NodeNS(i int) string { return fmt.Sprintf("%snode%d", NSPrefix, i) }

// run runs a command and returns its combined output, wrapped in an error
// that shows the command when it fails.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Exec runs argv inside the lab namespace ns and returns its combined output.
func Exec(ctx context.Context, ns string, argv ...string) (string, error) {
	if !strings.HasPrefix(ns, NSPrefix) {
		return "", fmt.Errorf("run in %q: not a lab namespace", ns)
	}
	return run(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
}

// ipBatch feeds `ip -batch -` with one command per line, optionally in ns.
func ipBatch(ctx context.Context, ns string, lines []string) error {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %w: %s", ns, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// sysctls sets kernel parameters inside ns.
func sysctls(ctx context.Context, ns string, kv ...string) error {
	args := []string{"sysctl", "-q"}
	for i := 0; i+1 < len(kv); i += 2 {
		args = append(args, "-w", kv[i]+"="+kv[i+1])
	}
	_, err := Exec(ctx, ns, args...)
	return err
}

// nftApply loads a ruleset into ns.
func nftApply(ctx context.Context, ns, ruleset string) error {
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nft in %s: %w: %s", ns, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// LabNamespaces lists the existing namespaces named hlab-*.
func LabNamespaces() ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), NSPrefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// killNamespaceProcs kills every process living in a lab namespace: they
// can only be ours.
func killNamespaceProcs(ctx context.Context, namespaces []string) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		any := false
		for _, ns := range namespaces {
			out, err := run(ctx, "ip", "netns", "pids", ns)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(out) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
					_ = syscall.Kill(pid, sig)
					any = true
				}
			}
		}
		if !any {
			return
		}
		if sig == syscall.SIGTERM {
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// rootVethExists reports whether the root end of the apiserver link exists.
func rootVethExists() bool {
	_, err := os.Stat("/sys/class/net/" + RootVeth)
	return err == nil
}
