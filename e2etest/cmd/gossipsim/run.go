package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/heraldlb/herald/internal/liveness"
)

// timingsFor returns the timings mode names for n speakers, every duration
// multiplied by scale.
func timingsFor(mode string, n int, scale float64) (liveness.Timings, error) {
	var t liveness.Timings
	switch mode {
	case "default":
		t = liveness.DefaultTimings()
	case "sized":
		t = liveness.TimingsFor(n)
	default:
		return t, fmt.Errorf("timings %q: want default or sized", mode)
	}
	for _, d := range []*time.Duration{&t.ProbeInterval, &t.ProbeTimeout, &t.GossipInterval, &t.PushPullInterval,
		&t.TCPTimeout, &t.RejoinInterval, &t.GossipToTheDeadTime} {
		*d = time.Duration(float64(*d) * scale)
	}
	return t, nil
}

// run simulates every size with every timings mode, printing each round,
// then a summary per size with the medians.
func run(ctx context.Context, o options, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.deadline)
	defer cancel()
	var sums []summary
	for _, mode := range o.modes {
		for _, n := range o.sizes {
			rs, err := simulate(ctx, o, mode, n, w)
			if err != nil {
				return fmt.Errorf("%d speakers, %s timings: %w", n, mode, err)
			}
			s := summarize(mode, n, o.scale, rs)
			fmt.Fprintln(w, s.line())
			sums = append(sums, s)
		}
	}
	printTable(w, sums)
	if o.svg != "" {
		return writeSVG(o.svg, sums)
	}
	return nil
}

// simulate starts n speakers and runs the rounds on them.
func simulate(ctx context.Context, o options, mode string, n int, w io.Writer) ([]result, error) {
	t, err := timingsFor(mode, n, o.scale)
	if err != nil {
		return nil, err
	}
	if o.probeTimeout > 0 {
		t.ProbeTimeout = time.Duration(float64(o.probeTimeout) * o.scale)
	}
	sn := newSimNet(o.latency, o.loss, o.seed)
	c, err := newCluster(n, o.ipsPerNode, t, sn)
	if err != nil {
		return nil, err
	}
	defer c.stop()
	start := time.Now()
	if err := c.start(ctx, time.Duration(float64(30*time.Second+time.Duration(n)*100*time.Millisecond)*o.scale), o.cold); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "n=%d timings=%s: all %d see each other after %v (probe %v, timeout %v, suspicion mult %d)\n", n, mode, n, time.Since(start).Round(time.Millisecond), t.ProbeInterval, t.ProbeTimeout, t.SuspicionMult)
	rng := rand.New(rand.NewPCG(o.seed, uint64(n)))
	var rs []result
	for i := range o.rounds {
		r, err := c.round(ctx, o.round, rng)
		if err != nil {
			return rs, err
		}
		r.dropped = sn.dropped.Swap(0)
		fmt.Fprintln(w, r.line(n, mode, i+1, o.scale))
		rs = append(rs, r)
	}
	if d := c.board.doublesTotal(); d > 0 {
		fmt.Fprintf(w, "n=%d timings=%s: %d times an IP had two owners over the run\n", n, mode, d)
	}
	return rs, nil
}
