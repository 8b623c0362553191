// Command gossipsim simulates Herald's speakers at cluster sizes this
// machine cannot hold as real nodes: N speakers' real liveness (memberlist
// with the configuration the speaker uses, encryption included) and the
// pure election, in one process over an in-memory network. Each round
// kills one speaker without leaving, and measures how long until every
// live speaker sees it dead, how long until each IP it owned has exactly
// one new owner, the most owners any IP had at any instant (never more than
// one may answer), and the CPU and gossip bytes per node.
//
//	go run ./e2etest/cmd/gossipsim -sizes 10,50,100,200,500 -rounds 5
//
// docs/benchmarks.md explains the figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gossipsim:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.pprof != "" {
		go servePprof(o.pprof)
	}
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gossipsim:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	sizes      []int
	modes      []string
	rounds     int
	ipsPerNode int
	scale      float64
	latency    time.Duration
	loss       float64
	seed       uint64
	svg        string
	round      roundConfig
	// probeTimeout, if set, replaces the timings' ProbeTimeout.
	probeTimeout time.Duration
	// deadline bounds the whole run.
	deadline time.Duration
	// cold: every speaker starts at once knowing every address, instead
	// of in batches that join the first speaker.
	cold bool
	// pprof, if set, is a loopback address to serve net/http/pprof on.
	pprof string
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("gossipsim", flag.ContinueOnError)
	var o options
	sizes := fs.String("sizes", "10,50,100,200,500", "cluster sizes to simulate, comma-separated")
	modes := fs.String("timings", "default", "timings to run each size with, comma-separated: default (liveness.DefaultTimings) or sized (liveness.TimingsFor the size)")
	fs.IntVar(&o.rounds, "rounds", 5, "kills per size (each on the cluster the last one left)")
	fs.IntVar(&o.ipsPerNode, "ips-per-node", 1, "Service IPs per node")
	fs.Float64Var(&o.scale, "scale", 1, "multiply every memberlist timer by this, to see whether CPU saturation causes what is measured (figures are printed as measured and divided by it)")
	fs.DurationVar(&o.latency, "latency", 0, "one-way delay of every packet and connection")
	fs.Float64Var(&o.loss, "loss", 0, "probability that a packet is lost")
	fs.Uint64Var(&o.seed, "seed", 1, "seed for the choice of victims and for losses")
	fs.StringVar(&o.svg, "svg", "", "write a plot of the failover times by size to this SVG file")
	fs.DurationVar(&o.round.window, "window", 3*time.Second, "steady state measured before each kill")
	fs.DurationVar(&o.round.hold, "hold", time.Second, "how long answers are still watched once a failover is complete")
	fs.DurationVar(&o.round.limit, "limit", 20*time.Second, "give up on a failover after this long")
	fs.DurationVar(&o.round.every, "every", 10*time.Millisecond, "sampling period of the timeline")
	fs.DurationVar(&o.probeTimeout, "probe-timeout", 0, "replace the probe timeout of the timings (before -scale)")
	fs.DurationVar(&o.deadline, "deadline", 30*time.Minute, "stop the whole run after this long")
	fs.BoolVar(&o.cold, "cold-start", false, "start every speaker at once, each given every other's address (a whole cluster restarting), instead of in batches of 20 that join the first speaker")
	fs.StringVar(&o.pprof, "pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060), to profile the simulation's heap and CPU")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 3 {
			return options{}, fmt.Errorf("size %q: want a number of at least 3", f)
		}
		o.sizes = append(o.sizes, n)
	}
	for _, m := range strings.Split(*modes, ",") {
		if _, err := timingsFor(m, 3, 1); err != nil {
			return options{}, err
		}
		o.modes = append(o.modes, m)
	}
	if o.rounds < 1 || o.ipsPerNode < 1 || o.scale <= 0 || o.loss < 0 || o.loss >= 1 {
		return options{}, fmt.Errorf("rounds and ips-per-node must be at least 1, scale above 0, loss in [0, 1)")
	}
	return o, nil
}

func numCPU() int { return runtime.NumCPU() }
