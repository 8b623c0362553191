package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/heraldlb/herald/e2etest/ctlproc"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/soak"
	"github.com/heraldlb/herald/internal/testenv"
)

// runControllerOnly soaks the controller alone: an apiserver and etcd from
// the pinned build, the controller, and fake speakers that keep the
// HeraldNodes saying what real ones would (see soak.Speakers). No network
// lab, no root, no lab lock.
func runControllerOnly(ctx context.Context, c config) (bool, error) {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", c.out, err)
	}
	env, err := testenv.Start(testenv.Options{ClusterIPRanges: lab.ClusterIPRange4.String() + "," + lab.ClusterIPRange6.String()})
	if err != nil {
		return false, err
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "soak: stop apiserver:", err)
		}
	}()
	l, err := lab.OnControlPlane(ctx, env, 3)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(os.Stderr, "soak: apiserver at %s, kubeconfig %s\n", env.Config.Host, l.Kubeconfig)
	if _, err := l.ApplySamples(ctx); err != nil {
		return false, err
	}
	ctl, err := startController(ctx, c.out, l.Kubeconfig)
	if err != nil {
		return false, err
	}
	defer ctl.Stop()
	// The first sample must not race the controller's start.
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	err = testenv.WaitHTTP(wctx, "http://"+aloneMetrics+"/metrics")
	wcancel()
	if err != nil {
		return false, fmt.Errorf("controller metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	faked := make(chan error, 1)
	go func() {
		// A failed write ends the soak: without the HeraldNodes the
		// controller would no longer do a real cluster's work.
		err := fakeSpeakers(l).Run(ctx, env.Client, 5*time.Second)
		if err != nil {
			cancel()
		}
		faked <- err
	}()

	targets := []soak.Target{{Binary: "controller", Process: "controller", Pid: ctl.Pid(),
		MetricsURL: "http://" + aloneMetrics + "/metrics", PprofURL: "http://" + alonePprof + "/debug/pprof/",
		Client: http.DefaultClient}}
	res, err := soak.Run(ctx, soak.Options{Targets: targets, Duration: c.duration, Interval: c.interval, Log: os.Stdout,
		Churn: soak.Churn{Lab: l, Namespace: "soak", Pools: []string{"lan", "routed"}, PerMinute: c.perMinute, Live: c.live}})
	if res != nil {
		err = errors.Join(err, write(ctx, c, targets, res))
	}
	cancel()
	if ferr := <-faked; ferr != nil {
		err = errors.Join(err, ferr)
	}
	if err != nil {
		return false, err
	}
	return verdicts(c, targets, res), nil
}

// fakeSpeakers stand in for the lab's speakers under config/samples: the
// "routed" pool over BGP to the "tor" peer, the others over Layer 2.
func fakeSpeakers(l *lab.Lab) soak.Speakers {
	s := soak.Speakers{BGPPools: []string{"routed"}, Peer: "tor", PeerAddress: "198.51.100.1"}
	for _, n := range l.Nodes {
		s.Nodes = append(s.Nodes, n.Name)
	}
	return s
}

// startController builds ./controller and runs it against the apiserver,
// serving metrics and pprof on loopback, with its log in dir.
func startController(ctx context.Context, dir, kubeconfig string) (*ctlproc.Proc, error) {
	// Absolute: go build runs in the repository's root.
	bin, err := filepath.Abs(filepath.Join(dir, "controller.bin"))
	if err != nil {
		return nil, fmt.Errorf("controller binary: %w", err)
	}
	if err := lab.GoBuild(ctx, "./controller", bin); err != nil {
		return nil, err
	}
	return ctlproc.Start(bin, filepath.Join(dir, "controller.log"), "--kubeconfig="+kubeconfig,
		"--leader-elect=true", "--leader-election-namespace="+lab.HeraldNamespace,
		"--health-probe-bind-address=0", "--metrics-bind-address="+aloneMetrics, "--metrics-secure=false",
		"--pprof-bind-address="+alonePprof, "--zap-time-encoding=rfc3339nano")
}
