// Command speaker announces the Service IPs that Herald's controller
// assigns, from every node: over ARP and NDP in Layer 2 mode, and to BGP
// routers in BGP mode. Flags are turned into options; the logic is in
// internal/speaker.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/linkfilter"
	"github.com/heraldlb/herald/internal/liveness"
	"github.com/heraldlb/herald/internal/memberlistkey"
	"github.com/heraldlb/herald/internal/memlimit"
	"github.com/heraldlb/herald/internal/metallbcompat"
	"github.com/heraldlb/herald/internal/metricsserve"
	"github.com/heraldlb/herald/internal/speaker"
	"github.com/heraldlb/herald/internal/version"
)

// flags are the command line, before it becomes options.
type flags struct {
	node                 string
	metrics              metricsserve.Flags
	probeAddr            string
	pprofAddr            string
	lbClass              string
	defaultClass         bool
	mlBind, mlAdvertise  string
	mlPort               int
	mlSecret             string
	timings              liveness.Timings
	leaseDuration, renew time.Duration
	tieBreaker           time.Duration
	gracefulShutdown     time.Duration
	burstCount           int
	burstInterval        time.Duration
	bgpListenPort        int
	ifaceInclude         string
	ifaceExclude         string
	version              bool
}

func main() {
	f := register(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	if f.version {
		fmt.Println(version.String("herald-speaker"))
		os.Exit(0)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if err := setMemoryLimit(); err != nil {
		ctrl.Log.WithName("setup").Error(err, "running without a soft memory limit")
	}

	if err := run(*f); err != nil {
		ctrl.Log.WithName("setup").Error(err, "speaker failed")
		os.Exit(1)
	}
}

// register declares the command line on fs, into the flags it returns.
func register(fs *flag.FlagSet) *flags {
	var f flags
	d := liveness.DefaultTimings()
	fs.StringVar(&f.node, "node-name", os.Getenv("NODE_NAME"), "this node's name (default $NODE_NAME)")
	f.metrics.Register(fs, ":7472")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":7473", "address the health probes bind to; 0 disables them")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "0", "loopback address (such as 127.0.0.1:6060) the pprof endpoint binds to, for heap and CPU profiles; 0 disables it (the default). The speaker runs on the host network, so only a loopback address is accepted")
	fs.StringVar(&f.lbClass, "lb-class", kube.DefaultClass, "spec.loadBalancerClass of the Services to announce (as the controller's)")
	fs.BoolVar(&f.defaultClass, "default-lb-class", true, "also announce LoadBalancer Services that set no loadBalancerClass (as the controller)")
	fs.StringVar(&f.mlBind, "memberlist-bind-address", "", "address memberlist listens on (default: :: when the advertise address is IPv6 or the host has no IPv4, else 0.0.0.0)")
	fs.IntVar(&f.mlPort, "memberlist-port", 7946, "memberlist's TCP and UDP port")
	fs.StringVar(&f.mlAdvertise, "memberlist-advertise-address", "", "address the other speakers reach this one at (default: the Node's InternalIP)")
	fs.StringVar(&f.mlSecret, "memberlist-secret", kube.DefaultMemberlistSecret, "Secret in "+kube.Namespace+" whose key "+memberlistkey.DataKey+" encrypts the gossip, and whose keys "+memberlistkey.DataKey+".<suffix> are also accepted (to rotate it); the speaker refuses to start without it, and follows its changes")
	fs.DurationVar(&f.timings.ProbeInterval, "memberlist-probe-interval", d.ProbeInterval, "how often each speaker probes another; detection takes a few intervals")
	fs.DurationVar(&f.timings.ProbeTimeout, "memberlist-probe-timeout", d.ProbeTimeout, "how long a probe waits for its ack before asking others to probe indirectly")
	fs.IntVar(&f.timings.SuspicionMult, "memberlist-suspicion-mult", d.SuspicionMult, "a suspected speaker is declared dead after this many probe intervals (scaled by log10 of the cluster size)")
	fs.DurationVar(&f.timings.GossipInterval, "memberlist-gossip-interval", d.GossipInterval, "how often news (deaths, joins) is gossiped")
	fs.DurationVar(&f.timings.PushPullInterval, "memberlist-push-pull-interval", d.PushPullInterval, "how often a full state exchange is made")
	fs.DurationVar(&f.timings.RejoinInterval, "memberlist-rejoin-interval", d.RejoinInterval, "how often speakers known from Leases but not members are joined again, which heals partitions")
	fs.DurationVar(&f.leaseDuration, "lease-duration", 30*time.Second, "how long this speaker's Lease lasts unrenewed; a speaker that dies without leaving stops counting for quorum after it")
	fs.DurationVar(&f.renew, "lease-renew-interval", 3*time.Second, "how often the Lease is renewed; a speaker dead in memberlist whose Lease goes unrenewed for this plus 5s counts as gone for quorum, so that two of three nodes dying leaves the third answering within about 10s")
	fs.DurationVar(&f.gracefulShutdown, "bgp-graceful-shutdown", 10*time.Second, "how long a node that is cordoned, drained, tainted out-of-service, excluded from load balancers or NotReady for 40s keeps its BGP routes, tagged GRACEFUL_SHUTDOWN (RFC 8326) so routers move away first, before it withdraws them")
	fs.DurationVar(&f.tieBreaker, "tiebreaker-duration", 4*time.Second, "duration of the tie-breaker Lease that settles an even split (such as a two-node cluster losing a node)")
	fs.IntVar(&f.burstCount, "gratuitous-count", 3, "gratuitous ARP / unsolicited NA rounds sent when this node takes an IP over")
	fs.DurationVar(&f.burstInterval, "gratuitous-interval", 250*time.Millisecond, "time between those rounds")
	fs.StringVar(&f.ifaceInclude, "interfaces", "", "comma-separated regular expressions: Layer 2 answers only on interfaces whose name matches one (default: any name)")
	fs.StringVar(&f.ifaceExclude, "exclude-interfaces", strings.Join(linkfilter.DefaultExclude, ","), "comma-separated regular expressions: Layer 2 never answers on interfaces whose name matches one (the default: CNI, container and tunnel devices); NOARP links and the members of bonds and bridges are never used either")
	fs.IntVar(&f.bgpListenPort, "bgp-listen-port", 0, "TCP port for passive BGP sessions (those the router opens), on each session's sourceAddress; 0: never listen, every session dials out (the default, so the speaker can live beside a CNI that speaks BGP on 179)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	return &f
}

// setMemoryLimit sets the runtime's soft memory limit from the
// container's, as internal/memlimit works it out.
func setMemoryLimit() error {
	limit, ok, err := memlimit.FromEnv(os.Getenv)
	if ok {
		debug.SetMemoryLimit(limit)
		ctrl.Log.WithName("setup").Info("soft memory limit set from the container's", "bytes", limit)
	}
	return err
}

func run(f flags) error {
	if f.node == "" {
		return fmt.Errorf("--node-name (or $NODE_NAME) is required")
	}
	if err := metricsserve.LoopbackOnly(f.pprofAddr); err != nil {
		return fmt.Errorf("--pprof-bind-address: %w", err)
	}
	links, err := linkfilter.New(strings.Split(f.ifaceInclude, ","), strings.Split(f.ifaceExclude, ","))
	if err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	mgr, err := newManager(cfg, f)
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	sp, err := newSpeaker(ctx, mgr, f, links)
	if err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(sp.Run)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("loop", sp.LiveCheck); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("announce", sp.ReadyCheck); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// newManager builds the manager, whose cache holds only the speakers'
// Leases among Leases, Services and EndpointSlices trimmed to what the
// speaker reads, and no Secrets: BGP password Secrets are watched
// each by name (speaker.Deps.Secrets), the memberlist key read once. Its
// metrics endpoint is served as the controller's (internal/metricsserve).
func newManager(cfg *rest.Config, f flags) (manager.Manager, error) {
	scheme, err := kube.Scheme()
	if err != nil {
		return nil, err
	}
	return ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                f.metrics.Options(),
		HealthProbeBindAddress: f.probeAddr,
		PprofBindAddress:       f.pprofAddr,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&coordinationv1.Lease{}: {Namespaces: map[string]cache.Config{kube.Namespace: {}}, Label: speaker.LeaseSelector()},
				// Only what the speaker reads of these, the largest part of
				// its cache (speaker.TrimService).
				&corev1.Service{}:            {Transform: speaker.TrimService},
				&discoveryv1.EndpointSlice{}: {Transform: speaker.TrimEndpointSlice},
			},
		},
	})
}

// newSpeaker builds the speaker and its parts: memberlist, Layer 2, BGP and
// their metrics.
func newSpeaker(ctx context.Context, mgr manager.Manager, f flags, links linkfilter.Rules) (*speaker.Speaker, error) {
	log := ctrl.Log.WithName("speaker")
	keys, err := memberlistkey.Read(ctx, mgr.GetAPIReader(), f.mlSecret)
	if err != nil {
		return nil, err
	}
	advertise, err := advertiseAddr(ctx, mgr, f)
	if err != nil {
		return nil, err
	}
	bind, err := bindAddr(f, advertise, liveness.HostHasIPv4())
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("clientset: %w", err)
	}
	mm, lm, sm, bm, err := newMetrics(ctrlmetrics.Registry)
	if err != nil {
		return nil, err
	}
	members, err := liveness.New(liveness.Options{
		Name: f.node, BindAddr: bind, BindPort: f.mlPort, AdvertiseAddr: advertise, AdvertisePort: f.mlPort,
		SecretKey: keys.Keys.Primary, SecondaryKeys: keys.Keys.Secondary, Timings: f.timings, Log: log.WithName("memberlist"), Metrics: mm,
	})
	if err != nil {
		return nil, err
	}
	if err := watchKeys(mgr, f, keys, members); err != nil {
		return nil, err
	}
	return speaker.New(speaker.Deps{
		Client:     mgr.GetClient(),
		Cache:      mgr.GetCache(),
		Secrets:    cs.CoreV1(),
		Recorder:   mgr.GetEventRecorderFor("herald-speaker"),
		Announcer:  layer2.New(layer2.Options{Log: log.WithName("layer2"), Metrics: lm, BurstCount: f.burstCount, BurstInterval: f.burstInterval}),
		Membership: members,
		Links:      layer2.NewLinkWatcher(log.WithName("links")),
		Router:     bgp.New(bgp.Options{Log: log.WithName("bgp"), Metrics: bm, ListenPort: f.bgpListenPort}),
	}, speaker.Options{
		Node:               f.node,
		Class:              kube.ClassPolicy{Class: f.lbClass, Default: f.defaultClass},
		MemberlistAddr:     netip.AddrPortFrom(advertise, uint16(f.mlPort)),
		LeaseDuration:      f.leaseDuration,
		RenewInterval:      f.renew,
		TieBreakerDuration: f.tieBreaker,
		GracefulShutdown:   f.gracefulShutdown,
		Links:              links,
		Log:                log,
		Metrics:            sm,
	})
}

// newMetrics makes the collectors of memberlist, Layer 2, the speaker's
// loop and BGP, and registers them, MetalLB's names included, with reg.
func newMetrics(reg prometheus.Registerer) (*liveness.Metrics, *layer2.Metrics, *speaker.Metrics, *bgp.Metrics, error) {
	mm, lm, sm, bm := liveness.NewMetrics(), layer2.NewMetrics(), speaker.NewMetrics(), bgp.NewMetrics()
	for _, m := range []interface {
		Register(prometheus.Registerer) error
	}{mm, lm, sm, bm} {
		if err := m.Register(reg); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	if err := metallbcompat.Register(reg, sm.ConfigViews()...); err != nil {
		return nil, nil, nil, nil, err
	}
	return mm, lm, sm, bm, nil
}

// watchKeys has the manager run a watcher that applies each change of the
// memberlist Secret to the running memberlist's keyring.
func watchKeys(mgr manager.Manager, f flags, inUse memberlistkey.Keyring, members *liveness.Liveness) error {
	w, err := memberlistkey.NewWatcher(memberlistkey.WatcherOptions{
		Config: mgr.GetConfig(), Scheme: mgr.GetScheme(), Name: f.mlSecret, Node: f.node,
		Keys: members, Recorder: mgr.GetEventRecorderFor("herald-speaker"), Log: ctrl.Log.WithName("memberlist-keys"),
	}, inUse)
	if err != nil {
		return err
	}
	return mgr.Add(manager.RunnableFunc(w.Run))
}

// advertiseAddr is --memberlist-advertise-address, or the Node's address.
func advertiseAddr(ctx context.Context, mgr manager.Manager, f flags) (netip.Addr, error) {
	if f.mlAdvertise != "" {
		a, err := netip.ParseAddr(f.mlAdvertise)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("--memberlist-advertise-address: %w", err)
		}
		return a, nil
	}
	return speaker.NodeAddress(ctx, mgr.GetAPIReader(), f.node)
}

// bindAddr is --memberlist-bind-address, or else the unspecified address
// of the advertised family (see liveness.BindAddrFor).
func bindAddr(f flags, advertise netip.Addr, hostHasIPv4 bool) (netip.Addr, error) {
	if f.mlBind == "" {
		return liveness.BindAddrFor(advertise, hostHasIPv4), nil
	}
	bind, err := netip.ParseAddr(f.mlBind)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--memberlist-bind-address: %w", err)
	}
	return bind, nil
}
