package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/plot"
	"github.com/heraldlb/herald/e2etest/soak"
)

func targetsOf(l *lab.Lab) []soak.Target {
	ts := []soak.Target{{Binary: "controller", Process: "controller", Pid: l.Controller.Procs[0].Pid(),
		MetricsURL: "http://" + controllerMetrics + "/metrics", PprofURL: "http://" + controllerPprof + "/debug/pprof/",
		Client: http.DefaultClient}}
	for i, n := range l.Nodes {
		ts = append(ts, soak.Target{Binary: "speaker", Process: n.Name, Pid: l.Speakers.Procs[i].Pid(),
			MetricsURL: "http://" + speakerMetrics + "/metrics", PprofURL: "http://" + speakerPprof + "/debug/pprof/",
			Client: lab.HTTPClientIn(n.Netns)})
	}
	return ts
}

// write saves, per binary, BINARY.csv and BINARY.svg, and every
// process's profiles.
func write(ctx context.Context, c config, targets []soak.Target, res *soak.Result) error {
	byBinary := map[string][]soak.Curve{}
	var order []string
	for i, t := range targets {
		if _, ok := byBinary[t.Binary]; !ok {
			order = append(order, t.Binary)
		}
		byBinary[t.Binary] = append(byBinary[t.Binary], res.Curves[i])
	}
	var errs []error
	for _, b := range order {
		errs = append(errs, writeFile(filepath.Join(c.out, b+".csv"), func(f *os.File) error { return soak.WriteCSV(f, byBinary[b]) }),
			writeFile(filepath.Join(c.out, b+".svg"), func(f *os.File) error { return plot.WriteSVG(f, soak.Charts(b, byBinary[b])...) }))
	}
	for _, t := range targets {
		errs = append(errs, t.SaveProfiles(ctx, c.out))
	}
	fmt.Printf("soak: wrote the curves and profiles to %s\n", c.out)
	return errors.Join(errs...)
}

func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// verdicts prints each process's verdict and whether all were flat.
func verdicts(c config, targets []soak.Target, res *soak.Result) bool {
	fmt.Printf("\n== soak summary: %v, %d Services/min, %d live, warm-up %.0f%%, limits: growth <= %.0f%%, goroutines within %d ==\n",
		c.duration, c.perMinute, c.live, 100*c.limits.Warmup, 100*c.limits.MaxGrowth, c.limits.GoroutineSlack)
	ok := true
	for i := range targets {
		v := soak.Judge(targets[i].Process, res.Curves[i].Samples, c.limits)
		fmt.Println(v)
		ok = ok && v.OK
	}
	return ok
}
