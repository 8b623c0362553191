package speaker

import (
	"context"
	"net/netip"
	"time"

	"github.com/go-logr/logr"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/linkfilter"
	"github.com/heraldlb/herald/internal/liveness"
)

// Announcer answers ARP and NDP for what it is given (internal/layer2).
type Announcer interface {
	Run(ctx context.Context) error
	Set(desired []layer2.Announcement) error
	Applied() []layer2.Announcement
	Announce(g []layer2.Gratuitous) error
}

// Membership tells which speakers are alive (internal/liveness).
type Membership interface {
	Run(ctx context.Context) error
	Set(d liveness.Desired) error
	Changes() <-chan struct{}
	Members() []liveness.Member
	HealthScore() int
	Leave(timeout time.Duration) error
}

// Links reports this node's network interfaces (layer2.LinkWatcher).
type Links interface {
	Run(ctx context.Context) error
	Changes() <-chan []layer2.Link
}

// Deps are what the speaker works with. main builds them; tests pass fakes
// for the network parts and a real apiserver for the rest.
type Deps struct {
	// Client writes Leases and records; reads go through Cache.
	Client client.Client
	Cache  cache.Cache
	// Secrets reads the BGP password Secrets, each by name: the cache
	// holds none.
	Secrets  corev1client.SecretsGetter
	Recorder record.EventRecorder
	Announcer
	Membership
	Links
	Router
}

// Options tune the speaker. Zero values take the defaults below.
type Options struct {
	// Node is this node's name. Required.
	Node string
	// Class says which Services are Herald's, as in the controller.
	Class kube.ClassPolicy
	// MemberlistAddr is where the other speakers reach this one; it is
	// published in this node's Lease. Required.
	MemberlistAddr netip.AddrPort
	// LeaseDuration is how long this node's Lease lasts without renewal
	// (default 30s), renewed every RenewInterval (default 3s). A speaker
	// that dies without leaving stops counting for quorum SilentAfter after
	// memberlist declares it dead, or one LeaseDuration after its last
	// renewal, whichever comes first.
	LeaseDuration, RenewInterval time.Duration
	// TieBreakerDuration is the tie-breaker Lease's duration (default 4s);
	// its holder renews it every third of that while a tie lasts.
	TieBreakerDuration time.Duration
	// Settle is how long a starting speaker waits after its Lease is first
	// written before it may claim (default 1s): speakers starting together
	// have not yet seen each other's Leases, and each would count itself the
	// only speaker.
	Settle time.Duration
	// Handoff is how long a speaker that has become ready (it has quorum
	// and has settled) tells the others so, in its memberlist metadata,
	// before it claims (default 300ms). The others give up its IPs as soon
	// as they see that; the delay must exceed the gossip's propagation, so
	// that two nodes never answer at once. At worst nobody answers an IP
	// for the delay, while clients' caches still point at a node that
	// forwards its traffic.
	Handoff time.Duration
	// HealthLimit: a speaker claims nothing while its memberlist health
	// score is at this or above (default 1: only a healthy speaker claims).
	// See election.Healthy.
	HealthLimit int
	// Coalesce is how long the loop waits after a change for more before
	// planning (default 10ms): a burst of Service creations makes a few
	// plans, not one per Service.
	Coalesce time.Duration
	// Links chooses the interfaces Layer 2 may answer on, beyond those it
	// never may (see linkfilter). The zero value considers every name.
	Links linkfilter.Rules
	// Resync replans on a timer (default 30s), to retry what failed to
	// apply.
	Resync time.Duration
	// RecordInterval is the least time between two writes of this node's
	// record (default 1s).
	RecordInterval time.Duration
	// LeaveTimeout bounds the wait for memberlist's leave message on
	// shutdown (default 1s).
	LeaveTimeout time.Duration
	// BGPRetry is how long a failed BGP apply waits before it is tried
	// again (default 2s).
	BGPRetry time.Duration
	// SilentAfter is how long a speaker dead in memberlist may leave its
	// Lease unrenewed before it counts as gone for quorum, before its
	// Lease expires (default RenewInterval + APITimeout, the longest a live
	// speaker's renewals can be apart while each succeeds; see
	// election.Silent).
	SilentAfter time.Duration
	// GracefulShutdown is how long a node that is leaving (cordoned,
	// drained, tainted out-of-service, excluded from load balancers, or
	// gone) keeps its BGP routes, tagged GRACEFUL_SHUTDOWN, before it
	// withdraws them (default 10s).
	GracefulShutdown time.Duration
	// APITimeout bounds each write to the apiserver (default 5s).
	APITimeout time.Duration
	Clock      clock.WithTickerAndDelayedExecution
	Log        logr.Logger
	Metrics    *Metrics
}

func (o *Options) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&o.LeaseDuration, 30*time.Second)
	set(&o.RenewInterval, 3*time.Second)
	set(&o.TieBreakerDuration, 4*time.Second)
	set(&o.Settle, time.Second)
	set(&o.Handoff, 300*time.Millisecond)
	if o.HealthLimit <= 0 {
		o.HealthLimit = 1
	}
	set(&o.Coalesce, 10*time.Millisecond)
	set(&o.Resync, 30*time.Second)
	set(&o.RecordInterval, time.Second)
	set(&o.LeaveTimeout, time.Second)
	set(&o.APITimeout, 5*time.Second)
	set(&o.SilentAfter, o.RenewInterval+o.APITimeout)
	set(&o.BGPRetry, 2*time.Second)
	set(&o.GracefulShutdown, 10*time.Second)
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
}
