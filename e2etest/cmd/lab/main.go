// Command lab runs Herald's network lab on this machine (root only).
//
//	lab up [-nodes N] [-no-demo]   bring the lab up, show the demo, stay up until Ctrl-C
//	lab down                       stop a running lab, or remove what a crashed one left
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/heraldlb/herald/e2etest/lab"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: lab up [-nodes N] [-no-demo] | lab down")
		os.Exit(2)
	}
	// The demo's heraldctl calls would print a stack trace without a
	// logger; their errors are returned anyway.
	ctrllog.SetLogger(logr.Discard())
	// Signals are caught for the whole run, so a second Ctrl-C during
	// teardown does not leave half a lab.
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch os.Args[1] {
	case "up":
		err = up(ctx, os.Args[2:])
	case "down":
		err = lab.Down(context.Background(), os.Stderr)
	default:
		err = fmt.Errorf("unknown command %q: want up or down", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
}

func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	nodes := fs.Int("nodes", 3, "number of node namespaces")
	noDemo := fs.Bool("no-demo", false, "skip the samples and demo Services")
	_ = fs.Parse(args)

	l, err := lab.Up(ctx, lab.Options{Nodes: *nodes, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(os.Stderr, "lab: tearing down")
		start := time.Now()
		if err := l.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "lab: teardown:", err)
			return
		}
		fmt.Fprintf(os.Stderr, "lab: down in %s, nothing left\n", time.Since(start).Round(time.Millisecond))
	}()
	fmt.Printf("lab: up in %s\n", l.BringUp.Round(time.Millisecond))
	if !*noDemo {
		if err := l.Demo(ctx, os.Stdout); err != nil {
			return err
		}
	}
	fmt.Printf("\nexport KUBECONFIG=%s\n", l.Kubeconfig)
	fmt.Printf("kubectl: %s/kubectl   try: kubectl get svc -A; kubectl get ipaddresspools\n", l.Env.BinDir)
	fmt.Printf("a shell on a client: ip netns exec %s bash   (router: vtysh -N %s)\n", lab.ClientNS, lab.RouterNS)
	fmt.Println("lab is up; Ctrl-C tears it down")
	<-ctx.Done()
	return nil
}
