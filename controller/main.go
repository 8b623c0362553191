// Command controller assigns IPs from Herald's pools to LoadBalancer
// Services. Flags are turned into options; the logic is in internal/reconcile.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/uuid"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metallbcompat"
	"github.com/heraldlb/herald/internal/metrics"
	"github.com/heraldlb/herald/internal/metricsserve"
	"github.com/heraldlb/herald/internal/reconcile"
	"github.com/heraldlb/herald/internal/version"
)

// flags are the command line, before it becomes options.
type flags struct {
	metrics                      metricsserve.Flags
	probeAddr, pprofAddr         string
	blockProfileRate             int
	leaderElect                  bool
	leNamespace                  string
	leaseDuration, renewDeadline time.Duration
	retryPeriod                  time.Duration
	lbClass                      string
	defaultClass                 bool
	qps                          float64
	burst, workers               int
	secretsRole                  bool
	memberlistSecret             string
	zap                          zap.Options
	version                      bool
}

// parseFlags reads the command line.
func parseFlags(args []string, errOut io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(errOut)
	f.metrics.Register(fs, ":8443")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "address /healthz and /readyz bind to, apart from metrics; 0 disables them")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "0", "address the pprof endpoint binds to; 0 disables it")
	fs.IntVar(&f.blockProfileRate, "pprof-block-profile-rate", 0, "record one blocking event per this many nanoseconds blocked, for pprof's block profile; 0 records none (it costs CPU)")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "elect a leader through a Lease, so that only one replica allocates; without it, run one replica only")
	fs.StringVar(&f.leNamespace, "leader-election-namespace", kube.Namespace, "namespace of the leader-election Lease")
	fs.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", reconcile.DefaultLeaseDuration,
		"how long a standby waits after the Lease last changed before it takes over: the takeover time after a leader dies without releasing it (whole seconds)")
	fs.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", reconcile.DefaultRenewDeadline,
		"how long the leader keeps failing to renew the Lease before it steps down (it campaigns again at once); shorter than the lease duration")
	fs.DurationVar(&f.retryPeriod, "leader-elect-retry-period", reconcile.DefaultRetryPeriod,
		"how often the leader renews the Lease, one write each time, and a standby looks at it; at most renew-deadline / 1.2")
	fs.StringVar(&f.lbClass, "lb-class", kube.DefaultClass, "spec.loadBalancerClass of the Services to handle")
	fs.BoolVar(&f.defaultClass, "default-lb-class", true, "also handle LoadBalancer Services that set no loadBalancerClass")
	fs.Float64Var(&f.qps, "kube-api-qps", 500, "client-side rate limit of API requests per second")
	fs.IntVar(&f.burst, "kube-api-burst", 1000, "client-side burst of API requests")
	fs.IntVar(&f.workers, "workers", 8, "Services reconciled concurrently")
	fs.BoolVar(&f.secretsRole, "speaker-secrets-role", true, "keep the Role "+kube.SpeakerSecretsRole+" granting the speakers exactly the memberlist Secret and the Secrets BGPPeers take passwords from")
	fs.StringVar(&f.memberlistSecret, "memberlist-secret", kube.DefaultMemberlistSecret, "the speakers' memberlist Secret (as their --memberlist-secret), which that Role grants too")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	f.zap.BindFlags(fs)
	// --kubeconfig, which ctrl.GetConfig reads.
	ctrlconfig.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return flags{}, fmt.Errorf("parse flags: %w", err)
	}
	return f, nil
}

// managerOptions is what controller-runtime's manager gets. Its own leader
// election stays off: reconcile.Setup elects with f's timings, keeping the
// process when the Lease is lost.
func managerOptions(f flags) (ctrl.Options, error) {
	scheme, err := kube.Scheme()
	if err != nil {
		return ctrl.Options{}, err
	}
	var c cache.Options
	if f.secretsRole {
		c.ByObject = reconcile.SecretsRoleCache()
	}
	return ctrl.Options{
		Scheme:                 scheme,
		Cache:                  c,
		Metrics:                f.metrics.Options(),
		HealthProbeBindAddress: f.probeAddr,
		PprofBindAddress:       f.pprofAddr,
		LeaderElection:         false,
	}, nil
}

// reconcileOptions is what the reconcilers get.
func reconcileOptions(f flags, identity string, m *metrics.Controller) reconcile.Options {
	var secrets *reconcile.SpeakerSecrets
	if f.secretsRole {
		secrets = &reconcile.SpeakerSecrets{Memberlist: f.memberlistSecret}
	}
	return reconcile.Options{
		SpeakerSecrets: secrets,
		Class:          kube.ClassPolicy{Class: f.lbClass, Default: f.defaultClass},
		Workers:        f.workers,
		Metrics:        m,
		Leader: reconcile.LeaderElection{
			Enabled:       f.leaderElect,
			Namespace:     f.leNamespace,
			Name:          "herald-controller.heraldlb.io",
			Identity:      identity,
			LeaseDuration: f.leaseDuration,
			RenewDeadline: f.renewDeadline,
			RetryPeriod:   f.retryPeriod,
		},
	}
}

func main() {
	f, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		os.Exit(2)
	case f.version:
		fmt.Println(version.String("herald-controller"))
		os.Exit(0)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	runtime.SetBlockProfileRate(f.blockProfileRate)
	if err := run(f); err != nil {
		ctrl.Log.WithName("setup").Error(err, "controller failed")
		os.Exit(1)
	}
}

func run(f flags) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(f.qps), f.burst
	mo, err := managerOptions(f)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	m, err := newMetrics(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("read hostname for the leader-election identity: %w", err)
	}
	if err := reconcile.Setup(mgr, reconcileOptions(f, host+"_"+string(uuid.NewUUID()), m)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("add readiness check: %w", err)
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// newMetrics makes the controller's collectors and registers them, MetalLB's
// names included, with reg.
func newMetrics(reg prometheus.Registerer) (*metrics.Controller, error) {
	m := metrics.NewController()
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	if err := metallbcompat.Register(reg, m.ConfigViews()...); err != nil {
		return nil, err
	}
	return m, nil
}
