package soak

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Options shape a soak.
type Options struct {
	Targets  []Target
	Churn    Churn
	Duration time.Duration
	// Interval is the time between samples (10 s).
	Interval time.Duration
	Log      io.Writer
}

// Result is what a soak measured.
type Result struct {
	// Curves are in the order of Options.Targets.
	Curves []Curve
	Churn  *ChurnStats
}

// Run churns for opts.Duration while sampling every target each
// Interval, then checks that the Services left were all served. It stops
// by itself; a target that cannot be read ends the run with an error, as
// a process that died or stopped serving metrics is itself a finding.
func Run(ctx context.Context, opts Options) (*Result, error) {
	// The churn's context has no deadline, only a cancel: near a deadline
	// client-go's rate limiter fails early with an error of its own, which
	// would read as a failed create.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := time.AfterFunc(opts.Duration, cancel)
	defer stop.Stop()
	res := &Result{Curves: make([]Curve, len(opts.Targets))}
	for i, t := range opts.Targets {
		res.Curves[i].Process = t.Process
	}
	churned := make(chan error, 1)
	go func() {
		st, err := opts.Churn.Run(ctx)
		res.Churn = st
		churned <- err
	}()
	err := sample(ctx, opts, res)
	cancel()
	if cerr := <-churned; cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	fmt.Fprintf(opts.Log, "soak: churn created %d and deleted %d Services\n", res.Churn.Created, res.Churn.Deleted)
	return res, res.Churn.WaitServed(context.Background(), opts.Churn.Lab, time.Minute)
}

func sample(ctx context.Context, opts Options, res *Result) error {
	start := time.Now()
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		if err := sampleAll(ctx, opts, res, time.Since(start)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func sampleAll(ctx context.Context, opts Options, res *Result, at time.Duration) error {
	for i, t := range opts.Targets {
		s, err := t.Read(ctx, at)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sample at %v: %w", at.Round(time.Second), err)
		}
		res.Curves[i].Samples = append(res.Curves[i].Samples, s)
		fmt.Fprintf(opts.Log, "soak [%6.0fs] %-10s RSS %6.1f MiB, heap %6.1f MiB, %4d goroutines\n",
			at.Seconds(), t.Process, float64(s.RSS)/(1<<20), float64(s.HeapInuse)/(1<<20), s.Goroutines)
	}
	return nil
}
