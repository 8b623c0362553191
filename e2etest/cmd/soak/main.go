// Command soak runs the churn soak on the network lab (root): the
// controller and three speakers while Services are created and deleted at
// a steady rate, sampling each process's RSS, heap in use and goroutines
// every interval. It writes a CSV and an SVG plot per binary, saves heap
// profiles and goroutine dumps at the end, prints each process's verdict,
// and exits with status 1 when memory grew or goroutines drifted after
// the warm-up. It stops by itself after -duration. With -controller-only
// it soaks the controller alone against an apiserver, without the lab.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/soak"
)

// Loopback ports of the metrics and pprof endpoints: the controller's in
// the root namespace, each speaker's in its node's namespace.
const (
	controllerMetrics, controllerPprof = "127.0.0.1:39180", "127.0.0.1:39181"
	speakerMetrics, speakerPprof       = "127.0.0.1:39472", "127.0.0.1:39060"
	// The controller-only soak's own, so that it can run beside a lab soak.
	aloneMetrics, alonePprof = "127.0.0.1:39190", "127.0.0.1:39191"
)

type config struct {
	duration, interval time.Duration
	perMinute, live    int
	out, speakerBin    string
	controllerOnly     bool
	limits             soak.Limits
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", time.Hour, "how long to churn")
	flag.DurationVar(&c.interval, "interval", 10*time.Second, "time between samples")
	flag.IntVar(&c.perMinute, "rate", 100, "Services created (and as many deleted) per minute")
	flag.IntVar(&c.live, "live", 100, "Services that exist at once once the churn is under way")
	flag.StringVar(&c.out, "out", "_output/soak", "directory for the CSVs, plots and profiles")
	flag.StringVar(&c.speakerBin, "speaker-bin", "", "a speaker binary to run instead of building ./speaker")
	flag.BoolVar(&c.controllerOnly, "controller-only", false, "soak the controller alone: an apiserver, the controller and fake speakers; no lab, no root")
	flag.Float64Var(&c.limits.Warmup, "warmup", 0.2, "fraction of the run left out at its start")
	flag.Float64Var(&c.limits.MaxGrowth, "max-growth", 0.05, "largest growth of heap in use and RSS after the warm-up, as a fraction")
	flag.IntVar(&c.limits.GoroutineSlack, "goroutine-slack", 20, "largest max - min goroutines of a process after the warm-up")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Bounded: the lab's bring-up, the churn and the tear-down together.
	ctx, cancel := context.WithTimeout(ctx, c.duration+10*time.Minute)
	defer cancel()
	runSoak := run
	if c.controllerOnly {
		runSoak = runControllerOnly
	}
	ok, err := runSoak(ctx, c)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	case !ok:
		fmt.Fprintln(os.Stderr, "soak: a process was not flat")
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) (bool, error) {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", c.out, err)
	}
	l, err := lab.Up(ctx, lab.Options{Log: os.Stderr, SpeakerBin: c.speakerBin, SpeakerArgs: speakerArgs,
		ControllerArgs: []string{"--metrics-bind-address=" + controllerMetrics, "--metrics-secure=false", "--pprof-bind-address=" + controllerPprof}})
	if err != nil {
		return false, err
	}
	defer func() {
		if cerr := l.Close(); cerr != nil {
			fmt.Fprintln(os.Stderr, "soak: tear down:", cerr)
		}
	}()
	if !l.Controller.Running || !l.Speakers.Running {
		return false, fmt.Errorf("controller: %s; speakers: %s", l.Controller.Why, l.Speakers.Why)
	}
	if _, err := l.ApplySamples(ctx); err != nil {
		return false, err
	}
	targets := targetsOf(l)
	res, err := soak.Run(ctx, soak.Options{Targets: targets, Duration: c.duration, Interval: c.interval, Log: os.Stdout,
		Churn: soak.Churn{Lab: l, Namespace: "soak", Pools: []string{"lan", "routed"}, PerMinute: c.perMinute, Live: c.live}})
	if res != nil {
		if werr := write(ctx, c, targets, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return false, err
	}
	return verdicts(c, targets, res), nil
}

func speakerArgs(n lab.Node, kubeconfig string) []string {
	return append(lab.DefaultSpeakerArgs(n, kubeconfig),
		"--metrics-bind-address="+speakerMetrics, "--metrics-secure=false", "--pprof-bind-address="+speakerPprof)
}
