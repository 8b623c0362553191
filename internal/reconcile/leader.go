package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Defaults of the leader election. With them a standby takes over within
// about LeaseDuration plus one or two RetryPeriods of the leader dying
// without a word (3 to 5 s), and at once after a graceful stop, which
// releases the Lease; the leader writes the Lease once per RetryPeriod. The
// price of a short lease is that a leader that cannot renew for
// RenewDeadline (an apiserver outage or a stall of 2 s) steps down. That
// costs little here: the replica keeps running, with its caches warm, and
// campaigns again (see leadership).
const (
	DefaultLeaseDuration = 3 * time.Second
	DefaultRenewDeadline = 2 * time.Second
	DefaultRetryPeriod   = time.Second
	// stepDownGrace bounds how long a replica that stops leading waits for
	// work in flight before it lets go of the Lease.
	stepDownGrace = 5 * time.Second
)

// LeaderElection says how replicas elect the one that allocates.
type LeaderElection struct {
	// Enabled elects a leader through a Lease. When false, this replica
	// leads from the start: run only one.
	Enabled bool
	// Namespace and Name locate the Lease.
	Namespace, Name string
	// Identity names this replica in the Lease; it must be unique among
	// the replicas.
	Identity string
	// LeaseDuration is how long a standby waits, after it last saw the
	// Lease change, before it takes over: it bounds the takeover after a
	// leader dies without releasing the Lease. RenewDeadline is how long a
	// leader keeps failing to renew before it steps down. RetryPeriod is how
	// often the leader renews (one Lease write each time) and a standby
	// looks. client-go requires LeaseDuration > RenewDeadline >
	// 1.2 × RetryPeriod, and keeps LeaseDuration in whole seconds. Zero
	// values take the defaults above.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

func (le *LeaderElection) defaults() {
	if le.LeaseDuration == 0 {
		le.LeaseDuration = DefaultLeaseDuration
	}
	if le.RenewDeadline == 0 {
		le.RenewDeadline = DefaultRenewDeadline
	}
	if le.RetryPeriod == 0 {
		le.RetryPeriod = DefaultRetryPeriod
	}
}

// leadership is the runnable that decides when this replica leads. Unlike
// controller-runtime's own leader election, which ends the process when the
// Lease is lost, it keeps the process, its informers and its caches, and
// campaigns again: the reconcilers run in every replica, but do nothing
// outside a term (see state), and each new term starts by loading every
// assignment from the apiserver again. A standby therefore takes over with
// warm caches, and an apiserver outage longer than RenewDeadline costs a
// new term, not a restart.
type leadership struct {
	cfg leaderelection.LeaderElectionConfig // without Callbacks; nil Lock: lead at once
	st  *state
	log logr.Logger
	// onTerm runs in its own goroutine when a term begins, until ctx
	// ends with the term: it enqueues everything, and sweeps (see sweep).
	onTerm func(ctx context.Context, term uint64)
}

func newLeadership(restCfg *rest.Config, le LeaderElection, st *state, log logr.Logger, onTerm func(context.Context, uint64)) (*leadership, error) {
	l := &leadership{st: st, log: log, onTerm: onTerm}
	if !le.Enabled {
		return l, nil
	}
	le.defaults()
	if le.Identity == "" || le.Namespace == "" || le.Name == "" {
		return nil, fmt.Errorf("set up leader election: identity, namespace and name are required")
	}
	lock, err := resourcelock.NewFromKubeconfig(resourcelock.LeasesResourceLock, le.Namespace, le.Name,
		resourcelock.ResourceLockConfig{Identity: le.Identity}, restCfg, le.RenewDeadline)
	if err != nil {
		return nil, fmt.Errorf("set up leader election lock: %w", err)
	}
	fenced := &fencedLock{Interface: lock, window: le.RenewDeadline, now: time.Now}
	st.lease = fenced
	l.cfg = leaderelection.LeaderElectionConfig{
		Lock:            fenced,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            le.Name,
		Callbacks:       leaderelection.LeaderCallbacks{OnStartedLeading: func(context.Context) {}, OnStoppedLeading: func() {}},
	}
	// Validate now, so that bad timings fail at start-up.
	if _, err := leaderelection.NewLeaderElector(l.cfg); err != nil {
		return nil, fmt.Errorf("set up leader election: %w", err)
	}
	return l, nil
}

// NeedLeaderElection tells controller-runtime to run this in every replica.
func (l *leadership) NeedLeaderElection() bool { return false }

// Start leads, or campaigns until ctx ends. On the way out it stops the
// term, lets work in flight finish, and only then releases the Lease, so
// that the next leader never overlaps with this one's writes.
func (l *leadership) Start(ctx context.Context) error {
	if l.cfg.Lock == nil {
		l.begin(ctx)
		<-ctx.Done()
		l.end()
		return nil
	}
	for {
		if err := l.campaign(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		l.log.Info("lost the lease; campaigning again")
	}
}

// campaign runs one leader elector until it loses the lease or ctx ends.
func (l *leadership) campaign(ctx context.Context) error {
	inner, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		l.end()
		cancel() // the elector releases the Lease
	})
	defer stop()

	var mu sync.Mutex
	stopped := false
	cfg := l.cfg
	cfg.Callbacks = leaderelection.LeaderCallbacks{
		OnStartedLeading: func(leCtx context.Context) {
			mu.Lock()
			defer mu.Unlock()
			if stopped || leCtx.Err() != nil {
				return
			}
			l.begin(leCtx)
		},
		OnStoppedLeading: func() {
			mu.Lock()
			stopped = true
			mu.Unlock()
			l.end()
		},
		OnNewLeader: func(identity string) { l.log.Info("leader elected", "leader", identity) },
	}
	le, err := leaderelection.NewLeaderElector(cfg)
	if err != nil {
		return fmt.Errorf("start leader election: %w", err)
	}
	le.Run(inner)
	return nil
}

// begin starts a term that lasts as long as ctx.
func (l *leadership) begin(ctx context.Context) {
	term := l.st.beginTerm()
	l.log.Info("leading: loading every assignment, then reconciling everything", "term", term)
	go l.onTerm(ctx, term)
}

func (l *leadership) end() {
	switch was, finished := l.st.endTerm(stepDownGrace); {
	case !was:
	case !finished:
		l.log.Info("stopped leading; work still in flight after the grace period will not write", "grace", stepDownGrace)
	default:
		l.log.Info("stopped leading")
	}
}
