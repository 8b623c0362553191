package speaker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/layer2"
	"github.com/heraldlb/herald/internal/linkfilter"
	"github.com/heraldlb/herald/internal/liveness"
	"github.com/heraldlb/herald/internal/plan"
)

// Speaker announces this node's share of the Service IPs.
type Speaker struct {
	deps Deps
	opts Options
	// kick wakes the loop to plan; informer handlers send to it without
	// blocking. renewKick has it renew this node's Lease.
	kick, renewKick chan struct{}
	// causes are the changes seen and not yet planned, for the latency
	// histograms.
	causes causes
	// probe is what the health probes read.
	probe probeState
	// pw are the watches of BGP password Secrets; only the loop uses it.
	pw *passwordWatches
}

// New returns a speaker. It starts nothing: Run does.
func New(deps Deps, opts Options) (*Speaker, error) {
	opts.defaults()
	if opts.Node == "" {
		return nil, errors.New("speaker: no node name")
	}
	if !opts.MemberlistAddr.IsValid() {
		return nil, errors.New("speaker: no memberlist address to publish")
	}
	s := &Speaker{deps: deps, opts: opts, kick: make(chan struct{}, 1), renewKick: make(chan struct{}, 1)}
	s.pw = newPasswordWatches(deps.Secrets, opts.Log.WithName("passwords"), s.wake)
	return s, nil
}

// state is everything the loop owns. Only Run's goroutine touches it.
type state struct {
	links []layer2.Link
	// last is the last plan applied, and alive the members it saw.
	last    plan.Plan
	alive   []string
	verdict election.Verdict
	// macs are the other speakers' MACs by node and interface, from their
	// metadata, for the handover at shutdown; settling which of them say
	// they do not claim yet.
	macs     map[string]map[string]net.HardwareAddr
	settling map[string]bool
	snap     snapshot
	// tieSeen is the tie-breaker Lease as last observed (nil before the
	// first plan), so that its age is measured on this node's clock.
	tieSeen *election.TieLease
	// ownRenew is when this node's Lease was last renewed successfully,
	// firstRenew the first time. readySince is when the speaker last became
	// ready (zero while it is not): it claims Handoff after that.
	ownRenew, firstRenew, readySince time.Time
	inFlight                         map[string]bool
	// notReady is since when each NotReady node has been seen so (see
	// plan.MarkGone); nil before the first plan. leavingSince is when this
	// node was first seen leaving (zero while it is not). planWake and
	// renewWake are the next plan and the next early renewal arranged.
	// silences are when this node last saw each other speaker's Lease
	// renewed; silent those dead in memberlist and silent for so long
	// that they count as gone.
	silences     map[string]election.Silence
	silent       []string
	notReady     map[string]time.Time
	leavingSince time.Time
	planWake     wake
	renewWake    wake
	// node is what the last plan gives this node's HeraldNode (nil before
	// the first plan); nodeWritten the status last written (nil when it
	// must be written again), nextNodeWrite when the next write may be.
	node          *nodeView
	nodeWritten   *v1beta1.HeraldNodeStatus
	nextNodeWrite time.Time
	started       time.Time
	reported      map[string]string
	desired       liveness.Desired
	// routes takes the desired BGP state to applyBGP; lastBGP is the last
	// one offered.
	routes  chan bgp.Desired
	lastBGP *bgp.Desired
	// changed and cause are the causes taken for the plan being made.
	changed map[string]time.Time
	cause   time.Time
}

// Run runs the speaker until ctx ends, then hands over: it stops answering,
// points clients at the new owners, leaves memberlist and removes its Lease.
// It starts the announcer, membership and link watcher itself, on a context
// of their own, so that they outlive ctx until the handover is done.
func (s *Speaker) Run(ctx context.Context) error {
	if err := s.labelTieBreaker(ctx); err != nil {
		return err
	}
	defer s.pw.stopAll()
	inner, stop := context.WithCancel(context.WithoutCancel(ctx))
	p, early, wait, err := s.start(ctx, inner)
	defer func() {
		stop()
		wait()
	}()
	if err != nil {
		return err
	}
	st := &state{started: s.opts.Clock.Now(), routes: p.routes, lastBGP: early, inFlight: map[string]bool{}, reported: map[string]string{}, macs: map[string]map[string]net.HardwareAddr{}, settling: map[string]bool{}}
	dispatch := func(w write) {
		if st.inFlight[w.kind] {
			return
		}
		select {
		case p.writes <- w:
			st.inFlight[w.kind] = true
		default:
		}
	}
	dispatch(s.renewLease(s.opts.Clock.Now()))
	s.wake()
	s.opts.Log.Info("speaker started", "node", s.opts.Node, "memberlist", s.opts.MemberlistAddr)
	return s.loop(ctx, st, p, dispatch)
}

// start watches what the speaker plans from and starts its parts on
// inner. BGP starts first, and is handed this node's sessions as soon as
// the few objects they come from are listed (openEarly); the other parts
// start once every cache has synced. It returns the parts, the BGP state
// offered early (nil if none was), and a wait for the parts to end.
func (s *Speaker) start(ctx, inner context.Context) (parts, *bgp.Desired, func(), error) {
	p := parts{errs: make(chan error, 4), writes: make(chan write, 4), results: make(chan written, 4), routes: make(chan bgp.Desired, 1)}
	var wg sync.WaitGroup
	s.run(inner, &wg, p.errs, "BGP", s.deps.Router.Run)
	wg.Go(func() { s.applyBGP(inner, p.routes, s.opts.BGPRetry) })
	sessionsSynced, err := s.watch(ctx)
	if err != nil {
		return p, nil, wg.Wait, err
	}
	early := s.openEarly(ctx, sessionsSynced, p.routes)
	if !s.deps.Cache.WaitForCacheSync(ctx) {
		return p, early, wg.Wait, errors.New("speaker: the informer cache did not sync")
	}
	s.opts.Log.V(1).Info("informer caches synced")
	s.run(inner, &wg, p.errs, "layer2 announcer", s.deps.Announcer.Run)
	s.run(inner, &wg, p.errs, "memberlist", s.deps.Membership.Run)
	s.run(inner, &wg, p.errs, "link watcher", s.deps.Links.Run)
	wg.Go(func() { s.writer(inner, p.writes, p.results) })
	return p, early, wg.Wait, nil
}

// parts are the channels of the speaker's running parts: the adapters'
// errors, the apiserver writer's work and results, and the BGP applier's
// desired state.
type parts struct {
	errs    chan error
	writes  chan write
	results chan written
	routes  chan bgp.Desired
}

// run runs an adapter in wg, reporting its error, named, on errs.
func (s *Speaker) run(ctx context.Context, wg *sync.WaitGroup, errs chan<- error, name string, run func(context.Context) error) {
	wg.Go(func() {
		if err := run(ctx); err != nil {
			errs <- fmt.Errorf("%s: %w", name, err)
		}
	})
}

// loop plans on every change and timer until ctx ends or a part stops,
// then hands over.
func (s *Speaker) loop(ctx context.Context, st *state, p parts, dispatch func(write)) error {
	renew := s.opts.Clock.NewTicker(s.opts.RenewInterval)
	defer renew.Stop()
	resync := s.opts.Clock.NewTicker(s.opts.Resync)
	defer resync.Stop()
	status := s.opts.Clock.NewTicker(2 * s.opts.RecordInterval)
	defer status.Stop()
	// pending is set while a plan waits, until due. A change from the
	// informer cache waits in proportion to what the last plan cost, so
	// that a burst of thousands of Services makes a few plans, each over
	// everything, rather than one per Service: planning takes at most about
	// a fifth of the speaker's time. Membership and link changes, which a
	// failover rides on, wait only Coalesce.
	var pending <-chan time.Time
	var due time.Time
	var lastSync time.Duration
	schedule := func(wait time.Duration) {
		at := s.opts.Clock.Now().Add(wait)
		if pending == nil || at.Before(due) {
			pending, due = s.opts.Clock.After(wait), at
		}
	}
	// tie is set while a tie lasts or this node holds the tie-breaker:
	// the Lease must be renewed, or taken when its holder's lapses, on time
	// even when nothing else happens. settle fires when the start-up
	// Settle ends, handoff when a Handoff delay does.
	var tie, settle, handoff <-chan time.Time
	for {
		s.beat()
		select {
		case <-ctx.Done():
			return s.handover(st)
		case err := <-p.errs:
			// An adapter that stops is fatal: announcing with a dead
			// responder or no membership would be wrong. Hand over first.
			s.opts.Log.Error(err, "a part of the speaker stopped; handing over and exiting")
			return errors.Join(err, s.handover(st))
		case st.links = <-s.deps.Links.Changes():
			s.causes.sawOther(s.opts.Clock.Now())
		case <-s.deps.Membership.Changes():
			s.causes.sawOther(s.opts.Clock.Now())
		case <-s.kick:
			schedule(max(s.opts.Coalesce, 4*lastSync))
			continue
		case <-renew.C():
			dispatch(s.renewLease(s.opts.Clock.Now()))
			continue
		case <-s.renewKick:
			dispatch(s.renewLease(s.opts.Clock.Now()))
			continue
		case <-status.C():
			s.refreshNode(st, dispatch)
			continue
		case <-resync.C():
		case r := <-p.results:
			first, replan := s.written(st, r)
			if first {
				settle = s.opts.Clock.After(s.opts.Settle)
			}
			if !replan {
				continue
			}
		case <-tie:
			tie = nil
		case <-settle:
			settle = nil
		case <-handoff:
			handoff = nil
		case <-pending:
			pending = nil
			began := time.Now()
			handingOff := s.sync(ctx, st, dispatch)
			lastSync = time.Since(began)
			s.opts.Metrics.SyncSeconds.Observe(lastSync.Seconds())
			if handingOff && handoff == nil {
				handoff = s.opts.Clock.After(s.opts.Handoff)
			}
			if (st.verdict.Tie || st.snap.tie.Holder == s.opts.Node) && tie == nil {
				tie = s.opts.Clock.After(s.opts.TieBreakerDuration / 3)
			}
			continue
		}
		schedule(s.opts.Coalesce)
	}
}

// written takes the result of a write. It reports whether it was this
// speaker's first Lease renewal, which starts the Settle, and whether the
// plan must be made again.
func (s *Speaker) written(st *state, r written) (first, replan bool) {
	st.inFlight[r.kind] = false
	if r.err != nil {
		s.opts.Log.Error(r.err, "apiserver write failed; will retry", "write", r.kind)
		if r.kind == "node" {
			st.nodeWritten = nil
		}
		return false, false
	}
	if r.kind != "lease" {
		return false, false
	}
	prev := st.ownRenew
	st.ownRenew = r.at
	if st.firstRenew.IsZero() {
		st.firstRenew = r.at
		return true, true
	}
	// Expiry and silence are judged at this node's own renewals (see
	// election.Known and election.Silent), so only a renewal past
	// another's expiry, or past the end of a silence, changes the plan.
	leases, err := s.cachedLeases()
	if err != nil || election.ExpiresBetween(leases, prev, r.at) {
		return false, true // a cache that cannot be read says yes
	}
	var alive []string
	for _, m := range s.deps.Membership.Members() {
		alive = append(alive, m.Name)
	}
	s.hearFrom(st, slices.DeleteFunc(leases, func(l election.SpeakerLease) bool { return l.ExpiredBy(r.at) }), alive, r.at)
	return false, !slices.Equal(election.Silent(st.silences, alive, r.at, s.opts.SilentAfter), st.silent)
}

// hearFrom updates what this node has heard of the other speakers'
// Leases, and arranges the renewal that judges the next silence of those
// not alive.
func (s *Speaker) hearFrom(st *state, others []election.SpeakerLease, alive []string, now time.Time) {
	st.silences = election.Silences(st.silences, others, now)
	s.arrange(&st.renewWake, election.SilentDue(st.silences, alive, st.ownRenew, s.opts.SilentAfter), now, s.renewSoon)
}

// watch wakes the loop on every change to what it plans from, except
// speaker Lease renewals that change nothing the plan reads. It starts
// every informer at once and waits for none: one at a time, a large
// cluster's EndpointSlices would only be listed after its Services. It
// returns whether the informers of sessionKinds have synced.
func (s *Speaker) watch(ctx context.Context) ([]toolscache.InformerSynced, error) {
	var sessionsSynced []toolscache.InformerSynced
	handler := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { s.causes.saw(o, s.opts.Clock.Now()); s.wake() },
		UpdateFunc: func(old, next any) {
			if now := s.opts.Clock.Now(); replans(old, next, now) {
				s.causes.saw(next, now)
				s.wake()
			}
		},
		DeleteFunc: func(o any) { s.causes.saw(o, s.opts.Clock.Now()); s.wake() },
	}
	for i, obj := range watched() {
		inf, err := s.deps.Cache.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil {
			return nil, fmt.Errorf("watch %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("watch %T: %w", obj, err)
		}
		if i < len(sessionKinds()) {
			sessionsSynced = append(sessionsSynced, inf.HasSynced)
		}
	}
	return sessionsSynced, nil
}

// others are leases but self's: this speaker always counts itself, so
// its own Lease expiring changes no plan.
func others(self string, leases []election.SpeakerLease) []election.SpeakerLease {
	return slices.DeleteFunc(slices.Clone(leases), func(l election.SpeakerLease) bool { return l.Node == self })
}

// wake asks the loop to plan again; it never blocks.
func (s *Speaker) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sync plans from a fresh snapshot and applies the result. It returns true
// while the speaker is handing off: it is ready but may not claim yet, and
// must plan again when the Handoff delay ends.
func (s *Speaker) sync(ctx context.Context, st *state, dispatch func(write)) (handingOff bool) {
	st.changed, st.cause = s.causes.take()
	if st.cause.IsZero() {
		st.cause = s.opts.Clock.Now() // woken by its own timer
	}
	snap, err := s.take(ctx)
	if err != nil {
		s.opts.Metrics.Syncs.WithLabelValues("error").Inc()
		s.opts.Log.Error(err, "cannot plan; keeping what is announced")
		return false
	}
	now := s.opts.Clock.Now()
	shutdown, next := s.observe(st, &snap, now)
	members, alive := s.members(st)
	s.arrange(&st.planWake, next, now, s.wake)
	s.silence(st, alive, now, dispatch)
	q := s.decide(st, alive, now, dispatch)
	selfLinks := s.gossip(st, q.ready)
	for i := range members {
		if members[i].Name == s.opts.Node {
			members[i].Settling = !q.ready // as just gossiped
		}
	}
	p := plan.Compute(plan.Inputs{
		Self: s.opts.Node, Config: snap.config, Services: snap.services, Nodes: snap.nodes,
		Members: members, SelfLinks: selfLinks, Claim: q.verdict.Claim, GracefulShutdown: shutdown,
		SelfAddrs: snap.selfAddrs, Passwords: snap.passwords, Unreadable: snap.unreadable,
	})
	s.apply(st, p, alive, q.verdict)
	s.report(st, p, alive, q, dispatch)
	st.last, st.alive, st.verdict = p, alive, q.verdict
	return q.handingOff
}

// observe completes the snapshot with what is judged on this node's clock
// (the tie-breaker's age, which Leases have expired, which nodes are gone)
// and keeps it in st. It returns whether this node is in its BGP graceful
// shutdown, and when to plan again: when that ends or a node becomes gone.
func (s *Speaker) observe(st *state, snap *snapshot, now time.Time) (shutdown bool, next time.Time) {
	snap.tie = election.ObserveTie(st.tieSeen, snap.tie, now)
	st.tieSeen = &snap.tie
	snap.leases, snap.peers = unexpired(snap.speakers, st.ownRenew)
	firstLook := st.notReady == nil
	if firstLook {
		st.notReady = map[string]time.Time{}
	}
	next = plan.MarkGone(snap.nodes, st.notReady, now, firstLook)
	st.snap = *snap

	i := slices.IndexFunc(snap.nodes, func(n plan.Node) bool { return n.Name == s.opts.Node })
	leaving := i >= 0 && snap.nodes[i].Leaving()
	switch {
	case !leaving:
		st.leavingSince = time.Time{}
	case st.leavingSince.IsZero():
		st.leavingSince = now
		s.opts.Log.Info("this node is leaving: handing its IPs over, BGP routes tagged GRACEFUL_SHUTDOWN until withdrawn", "node", snap.nodes[i], "gracefulShutdown", s.opts.GracefulShutdown)
	}
	if end := st.leavingSince.Add(s.opts.GracefulShutdown); leaving && now.Before(end) {
		shutdown, next = true, earliest(next, end)
	}
	return shutdown, next
}

// silence drops from the snapshot's Leases the speakers that have been
// dead in memberlist, their Leases unrenewed, for SilentAfter
// (election.Silent): they are gone for quorum well before their Leases
// expire. Only an own renewal lets it judge a silence, so when one has
// lasted long enough it renews this node's Lease at once.
func (s *Speaker) silence(st *state, alive []string, now time.Time, dispatch func(write)) {
	s.hearFrom(st, others(s.opts.Node, st.snap.leases), alive, now)
	silent := election.Silent(st.silences, alive, st.ownRenew, s.opts.SilentAfter)
	if !slices.Equal(silent, st.silent) {
		s.opts.Log.Info("speakers dead in memberlist whose Leases went unrenewed count as gone", "silent", silent, "after", s.opts.SilentAfter)
		st.silent = silent
	}
	st.snap.leases = slices.DeleteFunc(slices.Clone(st.snap.leases), func(l election.SpeakerLease) bool { return slices.Contains(silent, l.Node) })
	if due := st.renewWake.at; !due.IsZero() && !now.Before(due) {
		dispatch(s.renewLease(now))
	}
}

// earliest is the earlier of two times, zero standing for never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// wake is a call arranged for a time.
type wake struct {
	at    time.Time
	timer clock.Timer
}

// arrange has f called at next (never if zero), in place of what w had
// arranged.
func (s *Speaker) arrange(w *wake, next, now time.Time, f func()) {
	if next.Equal(w.at) {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.at = next
	if !next.IsZero() {
		w.timer = s.opts.Clock.AfterFunc(next.Sub(now), f)
	}
}

// renewSoon has the loop renew this node's Lease.
func (s *Speaker) renewSoon() {
	select {
	case s.renewKick <- struct{}{}:
	default:
	}
}

// members returns the live speakers, as the plan sees them, and their
// names; it keeps their MACs for handovers.
func (s *Speaker) members(st *state) ([]plan.Member, []string) {
	var members []plan.Member
	var alive []string
	for _, m := range s.deps.Membership.Members() {
		pm, macs, err := decodeMeta(m.Name, m.Meta)
		if err != nil {
			s.opts.Log.V(1).Info("speaker metadata does not parse; it wins nothing", "speaker", m.Name, "error", err.Error())
		}
		members = append(members, pm)
		alive = append(alive, m.Name)
		st.macs[m.Name] = macs
		if m.Name != s.opts.Node && st.settling[m.Name] != pm.Settling {
			s.opts.Log.Info("speaker readiness changed", "speaker", m.Name, "settling", pm.Settling)
			st.settling[m.Name] = pm.Settling
		}
	}
	return members, alive
}

// quorum is what decide works out: the verdict as the plan takes it, and
// the steps towards it.
type quorum struct {
	verdict election.Verdict
	// ready: quorum and settled; handingOff: ready, but within the Handoff
	// delay; waiting: quorum, but not claiming yet; healthy: memberlist's
	// health allows claiming.
	ready, handingOff, waiting, healthy bool
	score                               int
}

// decide works out whether this node may claim: quorum, the start-up
// settle and hand-off delays, and memberlist's health. It also takes,
// renews or releases the tie-breaker as the verdict requires.
func (s *Speaker) decide(st *state, alive []string, now time.Time, dispatch func(write)) quorum {
	snap := st.snap
	known := election.Known(s.opts.Node, snap.leases, alive, st.ownRenew)
	verdict := election.Decide(s.opts.Node, known, alive, snap.tie, now)
	started := !st.firstRenew.IsZero() && !now.Before(st.firstRenew.Add(s.opts.Settle))
	if !started {
		verdict.Tie = false // the tie-breaker is for speakers that have settled
	}
	if a := election.NextTieAction(s.opts.Node, verdict, snap.tie, now); a != election.TieNone {
		dispatch(s.tieWrite(a, snap.tieObj, alive, now))
	}
	q := quorum{ready: verdict.Claim && started}
	switch {
	case !q.ready:
		st.readySince = time.Time{}
	case st.readySince.IsZero():
		st.readySince = now
	}
	q.handingOff = q.ready && now.Before(st.readySince.Add(s.opts.Handoff))
	q.score = s.deps.Membership.HealthScore()
	q.healthy = election.Healthy(verdict, q.score, s.opts.HealthLimit)
	q.waiting = verdict.Claim && !(q.ready && !q.handingOff)
	verdict.Claim = q.ready && !q.handingOff && q.healthy
	if verdict != st.verdict {
		s.opts.Log.Info("quorum changed", "claims", verdict.Claim, "ready", q.ready, "healthScore", q.score, "alive", verdict.Alive, "known", verdict.Known, "tie", verdict.Tie, "tieHolder", snap.tie.Holder)
	}
	q.verdict = verdict
	return q
}

// gossip tells memberlist this node's peers and metadata (its links and
// MACs, and whether it is settling), and returns the links the plan may
// use.
func (s *Speaker) gossip(st *state, ready bool) []plan.Link {
	selfLinks, selfMACs := usable(st.links, s.opts.Links)
	metaBytes, err := encodeMeta(plan.Gossip(selfLinks, st.snap.config), selfMACs, len(selfLinks) > 0, !ready)
	if err != nil {
		s.opts.Log.Error(err, "cannot gossip this node's links; the others keep the last ones")
		metaBytes = st.desired.Meta
	}
	desired := liveness.Desired{Peers: st.snap.peers, Meta: metaBytes}
	if !slices.Equal(desired.Meta, st.desired.Meta) || !slices.Equal(desired.Peers, st.desired.Peers) {
		if err := s.deps.Membership.Set(desired); err != nil {
			s.opts.Log.Error(err, "cannot update memberlist peers and metadata")
		} else {
			st.desired = desired
		}
	}
	return selfLinks
}

// apply hands the plan to the announcers: the Layer 2 IPs this node wins,
// gratuitous announcements where they are due, and the BGP routes.
func (s *Speaker) apply(st *state, p plan.Plan, alive []string, verdict election.Verdict) {
	log := s.opts.Log
	prevMine, mine := st.last.Mine(), p.Mine()
	if !slices.EqualFunc(prevMine, mine, func(a, b plan.L2) bool { return a.IP == b.IP && slices.Equal(a.Interfaces, b.Interfaces) }) {
		log.V(1).Info("announcing", "ips", len(mine), "was", len(prevMine))
	}
	// Pointing clients at the new owners of what this node gives up, as
	// the handover at shutdown does, moves them before that owner has
	// even planned: a node that is cordoned or tainted hands over without
	// a failed request. Only a node with quorum does it: one cut off from
	// the others cannot know who owns what.
	moved := nextOwners(s.deps.Announcer.Applied(), p.L2, s.opts.Node, st.macs)
	if err := s.deps.Announcer.Set(announcements(mine)); err != nil {
		s.opts.Metrics.Syncs.WithLabelValues("error").Inc()
		log.Error(err, "could not announce everything; will retry", "applied", len(s.deps.Announcer.Applied()), "wanted", len(mine))
	} else {
		s.opts.Metrics.Syncs.WithLabelValues("ok").Inc()
	}
	s.observeTakeovers(st, mine)
	if len(moved) > 0 && st.verdict.Claim && verdict.Claim {
		if err := s.deps.Announcer.Announce(moved); err != nil {
			log.Error(err, "gratuitous announcements naming the new owners failed")
		}
	}
	// A membership change while this node stays the winner: repeat the
	// gratuitous announcements, in case a client cached a node that has
	// gone or is coming back from a partition.
	if !slices.Equal(alive, st.alive) && len(st.alive) > 0 {
		if kept := kept(prevMine, mine); len(kept) > 0 {
			if err := s.deps.Announcer.Announce(kept); err != nil {
				log.Error(err, "gratuitous announcements after a membership change failed")
			}
		}
	}
	if d := bgpDesired(p.BGP); st.lastBGP == nil || !reflect.DeepEqual(d, *st.lastBGP) {
		offer(st.routes, d)
		st.lastBGP = &d
	}
}

// observeTakeovers observes, for each IP of mine that the last plan gave
// to another node and that the Announcer now answers for, the time since
// the change that moved it. An IP whose Set failed is not observed: its
// first answer is still to come.
func (s *Speaker) observeTakeovers(st *state, mine []plan.L2) {
	applied := map[netip.Addr]bool{}
	for _, a := range s.deps.Announcer.Applied() {
		applied[a.IP] = true
	}
	for _, ip := range takenOver(st.last.L2, mine, s.opts.Node) {
		if applied[ip] {
			s.opts.Metrics.TakeoverSeconds.Observe(s.opts.Clock.Since(st.cause).Seconds())
		}
	}
}

// report emits the Events of what changed, writes this node's record when
// due, and sets the gauges.
func (s *Speaker) report(st *state, p plan.Plan, alive []string, q quorum, dispatch func(write)) {
	prevMine, mine := st.last.Mine(), p.Mine()
	s.planned(len(others(s.opts.Node, st.snap.leases)), max(0, len(alive)-1), mine, p.BGP)
	s.emit(announceNotices(s.opts.Node, prevMine, mine), st.snap)
	s.emit(advertiseNotices(s.opts.Node, st.last.BGP.Advertised, p.BGP.Advertised), st.snap)
	var unannounced []notice
	unannounced, st.reported = unannouncedNotices(p, st.reported)
	s.emit(unannounced, st.snap)

	st.node = &nodeView{mine: mine, q: q, alive: alive, bgp: p.BGP, problems: notInForce(st.snap.config.Problems, p.BGP.Problems)}
	s.refreshNode(st, dispatch)
	for _, w := range limitWarnings(st.last.BGP.Limits, p.BGP.Limits) {
		s.opts.Log.Info(w)
	}
	s.opts.Metrics.Limits.set(p.BGP.Limits)
	added := s.opts.Metrics.setAnnounced(s.opts.Node, mine, p.BGP.Advertised)
	for proto, ds := range announceLatencies(added, st.changed, s.opts.Clock.Now()) {
		for _, d := range ds {
			s.opts.Metrics.AnnounceSeconds.WithLabelValues(proto).Observe(d.Seconds())
		}
	}
	s.opts.Metrics.ConfigLoaded.Set(1)
	s.opts.Metrics.ConfigStale.Set(map[bool]float64{true: 1}[len(st.snap.config.Problems) > 0])
	s.opts.Metrics.Quorum.Set(map[bool]float64{true: 1}[q.verdict.Claim])
	s.opts.Metrics.Speakers.WithLabelValues("alive").Set(float64(q.verdict.Alive))
	s.opts.Metrics.Speakers.WithLabelValues("known").Set(float64(q.verdict.Known))
}

// refreshNode writes this node's HeraldNode when its status changed and
// the last write is at least RecordInterval ago: under churn at most one
// write per interval, and none while nothing changes. BGP session states
// change without any event, so the loop also calls it on a timer.
func (s *Speaker) refreshNode(st *state, dispatch func(write)) {
	now := s.opts.Clock.Now()
	if st.node == nil || now.Before(st.nextNodeWrite) || st.inFlight["node"] {
		return // built only when a write may go out: it lists every route
	}
	var prev v1beta1.HeraldNodeStatus
	if st.nodeWritten != nil {
		prev = *st.nodeWritten
	}
	next := nodeStatus(*st.node, s.deps.Router.Status(), prev, st.started, now)
	if st.nodeWritten == nil || !equality.Semantic.DeepEqual(next, prev) {
		dispatch(s.writeNode(next))
		st.nodeWritten, st.nextNodeWrite = &next, now.Add(s.opts.RecordInterval)
	}
}

// usable returns the links the plan may use: up, broadcast, not loopback,
// and allowed by rules (never a NOARP link, a bond's or bridge's member, or
// by default a CNI device); and their MACs.
func usable(links []layer2.Link, rules linkfilter.Rules) ([]plan.Link, map[string]net.HardwareAddr) {
	var out []plan.Link
	macs := map[string]net.HardwareAddr{}
	for _, l := range links {
		if !l.Up || !l.Broadcast || l.Loopback {
			continue
		}
		if rules.Why(linkfilter.Link{Name: l.Name, NoARP: l.NoARP, MasterKind: l.MasterKind}) != "" {
			continue
		}
		out = append(out, plan.Link{Name: l.Name, Prefixes: l.Prefixes})
		macs[l.Name] = l.MAC
	}
	return out, macs
}

func announcements(entries []plan.L2) []layer2.Announcement {
	var out []layer2.Announcement
	for _, e := range entries {
		for _, iface := range e.Interfaces {
			out = append(out, layer2.Announcement{IP: e.IP, Interface: iface})
		}
	}
	return out
}

// kept returns the announcements of next that were in prev too: those a
// membership change did not move.
func kept(prev, next []plan.L2) []layer2.Gratuitous {
	had := map[layer2.Announcement]bool{}
	for _, a := range announcements(prev) {
		had[a] = true
	}
	var out []layer2.Gratuitous
	for _, a := range announcements(next) {
		if had[a] {
			out = append(out, layer2.Gratuitous{IP: a.IP, Interface: a.Interface})
		}
	}
	return out
}

func (s *Speaker) emit(notices []notice, snap snapshot) {
	for _, n := range notices {
		if svc := snap.refs[n.service]; svc != nil {
			s.deps.Recorder.Event(svc, n.typ, n.reason, n.message)
		}
	}
}

// handover runs at shutdown: stop answering, then send gratuitous
// announcements naming each IP's next owner, so that clients move before
// that owner has even heard this node leave; then leave memberlist, and
// delete this node's Lease and record.
func (s *Speaker) handover(st *state) error {
	log := s.opts.Log
	next := s.successors(st)
	var errs []error
	if err := s.deps.Announcer.Set(nil); err != nil {
		errs = append(errs, fmt.Errorf("stop answering: %w", err))
	}
	if len(next) > 0 {
		if err := s.deps.Announcer.Announce(next); err != nil {
			errs = append(errs, fmt.Errorf("hand over to the next owners: %w", err))
		}
	}
	if err := s.deps.Membership.Leave(s.opts.LeaveTimeout); err != nil {
		errs = append(errs, fmt.Errorf("leave memberlist: %w", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.APITimeout)
	defer cancel()
	if err := s.forget(ctx); err != nil {
		errs = append(errs, err)
	}
	if st.snap.tie.Holder == s.opts.Node {
		if err := s.tieWrite(election.TieRelease, st.snap.tieObj, nil, s.opts.Clock.Now()).do(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	log.Info("speaker stopped: handed over and left", "handed over", len(next))
	return errors.Join(errs...)
}

// successors plans the cluster without this node and returns, for each
// IP-interface this node answers on, a gratuitous announcement naming the
// MAC of the IP's next owner on a link of the same name. IPs whose next
// owner is unknown, or whose link differs, are left to that owner's own
// announcements.
func (s *Speaker) successors(st *state) []layer2.Gratuitous {
	var members []plan.Member
	for _, m := range s.deps.Membership.Members() {
		if m.Name == s.opts.Node {
			continue
		}
		pm, _, _ := decodeMeta(m.Name, m.Meta)
		members = append(members, pm)
	}
	without := plan.Compute(plan.Inputs{
		Self: s.opts.Node, Config: st.snap.config, Services: st.snap.services, Nodes: st.snap.nodes,
		Members: members, Claim: true,
	})
	return nextOwners(s.deps.Announcer.Applied(), without.L2, s.opts.Node, st.macs)
}

// nextOwners returns, for each IP-interface of applied that entries give
// to another node on a link of the same name, a gratuitous announcement
// naming that node's MAC there. IPs whose next owner is unknown, or whose
// link differs, are left to that owner's own announcements.
func nextOwners(applied []layer2.Announcement, entries []plan.L2, self string, macs map[string]map[string]net.HardwareAddr) []layer2.Gratuitous {
	owner := map[netip.Addr]plan.L2{}
	for _, e := range entries {
		owner[e.IP] = e
	}
	var out []layer2.Gratuitous
	for _, a := range applied {
		e, ok := owner[a.IP]
		if !ok || e.Winner == self || !slices.Contains(e.Interfaces, a.Interface) {
			continue
		}
		if mac := macs[e.Winner][a.Interface]; mac != nil {
			out = append(out, layer2.Gratuitous{IP: a.IP, Interface: a.Interface, MAC: mac})
		}
	}
	return out
}
