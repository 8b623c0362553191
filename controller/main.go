// Command controller assigns IPs from Herald's pools to LoadBalancer
// Services. Flags are turned into options; the logic is in internal/reconcile.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
	"github.com/heraldlb/herald/internal/reconcile"
)

// flags are the command line, before it becomes options.
type flags struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	leNamespace            string
	lbClass                string
	pprofAddr              string
	defaultClass           bool
	qps                    float64
	burst, workers         int
}

func main() {
	var f flags
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "address the metrics endpoint binds to; 0 disables it")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address the health probes bind to; 0 disables them")
	flag.StringVar(&f.pprofAddr, "pprof-bind-address", "0", "address the pprof endpoint binds to; 0 disables it")
	flag.BoolVar(&f.leaderElect, "leader-elect", true, "elect a leader, so that only one replica allocates")
	flag.StringVar(&f.leNamespace, "leader-election-namespace", kube.Namespace, "namespace of the leader-election Lease")
	flag.StringVar(&f.lbClass, "lb-class", kube.DefaultClass, "spec.loadBalancerClass of the Services to handle")
	flag.BoolVar(&f.defaultClass, "default-lb-class", true, "also handle LoadBalancer Services that set no loadBalancerClass")
	flag.Float64Var(&f.qps, "kube-api-qps", 500, "client-side rate limit of API requests per second")
	flag.IntVar(&f.burst, "kube-api-burst", 1000, "client-side burst of API requests")
	flag.IntVar(&f.workers, "workers", 8, "Services reconciled concurrently")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(f); err != nil {
		ctrl.Log.WithName("setup").Error(err, "controller failed")
		os.Exit(1)
	}
}

func run(f flags) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = float32(f.qps), f.burst
	scheme, err := kube.Scheme()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:        f.probeAddr,
		PprofBindAddress:              f.pprofAddr,
		LeaderElection:                f.leaderElect,
		LeaderElectionID:              "herald-controller.heraldlb.io",
		LeaderElectionNamespace:       f.leNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return err
	}
	m := metrics.NewController()
	if err := m.Register(ctrlmetrics.Registry); err != nil {
		return err
	}
	if err := reconcile.Setup(mgr, reconcile.Options{
		Class:   kube.ClassPolicy{Class: f.lbClass, Default: f.defaultClass},
		Workers: f.workers,
		Metrics: m,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
