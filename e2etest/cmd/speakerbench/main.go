// Command speakerbench measures the speakers on the network lab (root):
//
//   - Layer 2: the outage a client sees when the owner's link goes down,
//     what it sees when the owner's speaker stops with SIGTERM, how long
//     after a partition heals until one node answers, the time from a
//     Service's creation to an ARP answer, and the speakers' memory and CPU
//     with many Layer 2 Services;
//   - BGP: the time from a Service's creation to its route in the router's
//     kernel table, and how long the router takes to have the routes of
//     thousands of Services, with the speakers' memory and CPU;
//   - the switch-over of a migration: the probes a client loses while Layer
//     2 announcing moves from MetalLB's speakers to Herald's.
//
// It prints every round first, then each figure's median, p99 and maximum
// against its target, and exits with status 1 when a target is missed. The
// machines are noisy: verdicts rest on the median of rounds where the
// target is a median, and every round stays visible.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
)

func main() {
	mode := flag.String("mode", "all", "what to measure: l2, l2-cost (only the memory and CPU of many Layer 2 Services), bgp, switch (the switch-over from MetalLB), lifecycle (nodes that leave, two of three speakers killed), heap (speakers' RSS and node1's heap profile at -heap-routes BGP routes; not in all) or all")
	trials := flag.Int("trials", 10, "rounds of each failover measurement")
	announceTrials := flag.Int("announce-trials", 20, "rounds of the create-to-answer and create-to-route measurements")
	l2Services := flag.Int("l2-services", 1000, "Layer 2 Services for the cost measurement")
	bgpServices := flag.Int("bgp-services", 5000, "BGP Services for the many-routes measurement")
	coldRounds := flag.Int("cold-rounds", 10, "rounds of the BGP cold start (every speaker restarted)")
	heapRoutes := flag.String("heap-routes", "5000,20000", "BGP route counts, in increasing order, at which the heap mode saves node1's heap profile")
	profileDir := flag.String("profile-dir", "_output/speakerbench", "directory for the heap mode's profiles")
	speakerBin := flag.String("speaker-bin", "", "a speaker binary to run instead of building ./speaker, to measure another build (say, main's) the same way")
	daemonSet := flag.String("speaker-daemonset", "config/speaker/daemonset.yaml", "the speaker DaemonSet whose literal env (GOGC) and memory limit (as HERALD_MEMORY_LIMIT) the lab's speakers get, as its containers would; \"\": none")
	flag.Parse()
	labOpts := lab.Options{Log: os.Stderr, SpeakerBin: *speakerBin}
	if *daemonSet != "" {
		env, err := daemonSetEnv(*daemonSet)
		if err != nil {
			fmt.Fprintln(os.Stderr, "speakerbench:", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "speakerbench: the speakers' environment, from %s: %s\n", *daemonSet, strings.Join(env, " "))
		labOpts.SpeakerEnv = env
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bounded: the whole run stops by itself.
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()

	r := &report{}
	var err error
	if *mode == "l2" || *mode == "all" {
		err = withLab(ctx, labOpts, func(l *lab.Lab) error { return benchL2(ctx, l, r, *trials, *announceTrials, *l2Services) })
	}
	if *mode == "l2-cost" {
		err = withLab(ctx, labOpts, func(l *lab.Lab) error { return manyL2(ctx, l, r, *l2Services) })
	}
	if err == nil && (*mode == "bgp" || *mode == "all") {
		err = withLab(ctx, labOpts, func(l *lab.Lab) error { return benchBGP(ctx, l, r, *announceTrials, *bgpServices, *coldRounds) })
	}
	if err == nil && (*mode == "switch" || *mode == "all") {
		err = withLab(ctx, labOpts, func(l *lab.Lab) error { return benchSwitch(ctx, l, r, *trials) })
	}
	if err == nil && (*mode == "lifecycle" || *mode == "all") {
		err = withLab(ctx, labOpts, func(l *lab.Lab) error { return benchLifecycle(ctx, l, r, *trials) })
	}
	if *mode == "heap" {
		err = runHeap(ctx, labOpts, r, *heapRoutes, *profileDir)
	}
	r.print(os.Stdout)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "speakerbench:", err)
		os.Exit(1)
	case r.missed > 0:
		fmt.Fprintf(os.Stderr, "speakerbench: %d target(s) missed\n", r.missed)
		os.Exit(1)
	}
}

// runHeap is the heap mode: the speakers serve pprof on loopback.
func runHeap(ctx context.Context, opts lab.Options, r *report, routes, dir string) error {
	counts, err := parseCounts(routes)
	if err != nil {
		return fmt.Errorf("-heap-routes: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	opts.SpeakerArgs = pprofSpeakerArgs
	return withLab(ctx, opts, func(l *lab.Lab) error { return heapProfiles(ctx, l, r, counts, dir) })
}

// withLab runs f on a fresh lab with config/samples applied, and tears the
// lab down afterwards, also on failure.
func withLab(ctx context.Context, opts lab.Options, f func(*lab.Lab) error) error {
	l, err := lab.Up(ctx, opts)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil {
			fmt.Fprintln(os.Stderr, "speakerbench: tear down:", cerr)
		}
	}()
	if !l.Controller.Running || !l.Speakers.Running {
		return fmt.Errorf("controller: %s; speakers: %s", l.Controller.Why, l.Speakers.Why)
	}
	if _, err := l.ApplySamples(ctx); err != nil {
		return err
	}
	return f(l)
}
