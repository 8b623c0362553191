package liveness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/memberlist"
)

// Run creates the memberlist, joins Peers, and keeps retrying every
// RejoinInterval (and at once after Set) to join the peer addresses that are
// not alive members, a few at a time chosen at random (maxJoins): this
// is what heals a partition, since memberlist alone does not re-contact dead
// nodes. It returns when ctx ends, after
// shutting memberlist down WITHOUT leaving (a graceful exit calls Leave
// first). Run may be called once.
func (l *Liveness) Run(ctx context.Context) error {
	if !l.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	// The meta memberlist starts with is the one the rejoiner knows as
	// advertised: a Set from now on is a change to gossip.
	meta := l.getDesired().Meta
	ml, err := l.start(ctx, meta)
	if err != nil {
		l.events.stop()
		return err
	}
	l.log.Info("memberlist started", "addr", l.opts.self(), "bind", l.opts.BindAddr, "port", l.opts.BindPort)
	r := &rejoiner{l: l, ml: ml, advertised: meta, inflight: map[netip.AddrPort]bool{}, failing: map[netip.AddrPort]bool{}, results: make(chan joinResult)}
	r.loop(ctx)
	return l.stop(ml, r)
}

// start opens the sockets and creates memberlist with meta.
func (l *Liveness) start(ctx context.Context, meta []byte) (*memberlist.Memberlist, error) {
	std := newStdLogger(l.log)
	t, err := l.transport(ctx, std)
	if err != nil {
		return nil, fmt.Errorf("start memberlist: %w", err)
	}
	if l.wrap != nil {
		t = l.wrap(t)
	}
	l.meta.set(meta)
	ml, err := memberlist.Create(memberlistConfig(l.opts, l.keyring, std, l.meta, l.events, t))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start memberlist: %w", err), t.Shutdown())
	}
	l.ml.Store(ml)
	return ml, nil
}

// transport is Options.Transport's, or else UDP and TCP sockets.
func (l *Liveness) transport(ctx context.Context, std *log.Logger) (memberlist.NodeAwareTransport, error) {
	if l.opts.Transport != nil {
		t, err := l.opts.Transport()
		if err != nil {
			return nil, fmt.Errorf("make the transport: %w", err)
		}
		return t, nil
	}
	return newNetTransport(ctx, l.opts, std)
}

// stop shuts memberlist down without leaving, then waits for the join
// attempts still running, which the cancelled context cuts short.
func (l *Liveness) stop(ml *memberlist.Memberlist, r *rejoiner) error {
	l.lifecycle.Lock()
	err := ml.Shutdown()
	l.ml.Store(nil)
	l.lifecycle.Unlock()
	l.events.stop()
	for len(r.inflight) > 0 {
		res := <-r.results
		delete(r.inflight, res.peer)
	}
	if err != nil {
		return fmt.Errorf("shut down memberlist: %w", err)
	}
	l.log.Info("memberlist stopped")
	return nil
}

type joinResult struct {
	peer netip.AddrPort
	err  error
	// push: the attempt pushed new meta to a member (pushState), rather
	// than joining a missing peer.
	push bool
}

// rejoiner is Run's state: the one goroutine running loop owns it, and join
// attempts report back through results.
type rejoiner struct {
	l  *Liveness
	ml *memberlist.Memberlist
	// advertised is the meta memberlist gossips.
	advertised []byte
	// inflight holds the peers being joined: at most one attempt per peer,
	// so an unreachable peer costs one connection attempt at a time.
	inflight map[netip.AddrPort]bool
	// failing holds the peers whose last attempt failed, so that a failure
	// is logged once, and the recovery too.
	failing map[netip.AddrPort]bool
	// joining counts the joins of missing peers in flight (inflight less
	// the meta pushes): at most maxJoins at a time.
	joining int
	results chan joinResult
}

func (r *rejoiner) loop(ctx context.Context) {
	ticker := r.l.opts.Clock.NewTicker(r.l.opts.Timings.RejoinInterval)
	defer ticker.Stop()
	// memberlist raises no event when its health score changes: it is an
	// in-memory counter, read once per probe interval.
	health := r.l.opts.Clock.NewTicker(r.l.opts.Timings.ProbeInterval)
	defer health.Stop()
	score := 0
	r.act()
	for {
		select {
		case <-ctx.Done():
			return
		case <-health.C():
			if s := r.ml.GetHealthScore(); s != score {
				score = s
				r.l.opts.Metrics.Health.Set(float64(s))
				r.l.events.signal()
			}
		case <-ticker.C():
			r.act()
		case <-r.l.poke:
			r.act()
		case res := <-r.results:
			delete(r.inflight, res.peer)
			if !res.push {
				r.joining--
			}
			r.report(res)
		}
	}
}

// act brings memberlist to the current Desired: it gossips new meta, and
// starts joins to peers that are not alive members, chosen at random, up
// to maxJoins in flight.
func (r *rejoiner) act() {
	if r.l.left.Load() {
		return
	}
	d := r.l.getDesired()
	if !bytes.Equal(d.Meta, r.advertised) {
		r.l.meta.set(d.Meta)
		r.advertised = d.Meta
		// The wait only says whether the update has gone out yet; it is
		// queued either way, and a timeout must not hold up the joins.
		if err := r.ml.UpdateNode(r.l.opts.Timings.TCPTimeout); err != nil {
			r.l.log.V(1).Info("meta update queued but not yet gossiped", "err", err)
		}
		r.pushState()
	}
	missing := missingPeers(d.Peers, r.l.events.snapshot())
	// A peer back through gossip, or no longer wanted, starts afresh: its
	// next failure is news again.
	for p := range r.failing {
		if !slices.Contains(missing, p) {
			delete(r.failing, p)
		}
	}
	for _, p := range pickJoins(missing, r.inflight, r.joining, r.l.maxJoins, rand.Shuffle) {
		r.inflight[p] = true
		r.joining++
		go func() {
			_, err := r.ml.Join([]string{p.String()})
			r.results <- joinResult{peer: p, err: err}
		}()
	}
}

// maxJoins bounds how many joins of missing peers are in flight at a time,
// so also how many one rejoin round starts. It counts those in flight, not
// only the round's: a join to a peer that does not answer holds its slot
// for up to TCPTimeout, several rounds, and on a starved machine so does a
// state exchange, and new rounds must not pile more on top. Each join is a
// full TCP state exchange of this speaker's whole member list, and one that
// succeeds brings every member the peer knows (and gossip then brings the
// rest): a cold start of N speakers that each joined every address it did
// not see yet cost N² exchanges, which a 500-speaker simulation could not
// get through (docs/benchmarks.md, the gossip simulation). With 8, a
// speaker with up to 8 peers missing (every cluster of up to 9 speakers,
// and any partition of that size) still joins all of them in the first
// round; a larger partition heals through any one peer of the other side,
// chosen afresh each round.
const maxJoins = 8

// metaPushFanout bounds how many members a meta change is pushed to over
// TCP. They gossip it on as well, so a few reach the rest of a large
// cluster quickly; in a small one every member gets it first hand.
const metaPushFanout = 8

// pushState sends this node's state, with its new meta, to up to
// metaPushFanout alive members by a TCP state exchange (memberlist's Join).
// Gossip alone is not enough: its UDP packets can be lost, and then the
// others learn the meta only at the next periodic exchange, up to
// PushPullInterval later. The speakers hand IPs over on what the meta says
// (a speaker that is settling wins nothing), so a stale meta would keep two
// nodes answering for that long.
func (r *rejoiner) pushState() {
	self := r.l.opts.self()
	var members []netip.AddrPort
	for _, m := range r.l.events.snapshot() {
		if m.Addr != self && !r.inflight[m.Addr] {
			members = append(members, m.Addr)
		}
	}
	rand.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	for _, p := range members[:min(len(members), metaPushFanout)] {
		r.inflight[p] = true
		go func() {
			_, err := r.ml.Join([]string{p.String()})
			r.results <- joinResult{peer: p, err: err, push: true}
		}()
	}
}

// report logs and counts one join attempt. A peer that keeps failing is
// logged once, not every RejoinInterval.
func (r *rejoiner) report(res joinResult) {
	log, m := r.l.log, r.l.opts.Metrics
	if res.push {
		if res.err != nil {
			log.V(1).Info("could not push new meta to a member; gossip still carries it", "peer", res.peer, "err", res.err)
		}
		return
	}
	if res.err != nil {
		m.JoinAttempts.WithLabelValues(joinError).Inc()
		if r.failing[res.peer] {
			log.V(1).Info("still cannot join peer", "peer", res.peer, "err", res.err)
			return
		}
		r.failing[res.peer] = true
		kv := []any{"peer", res.peer}
		if strings.Contains(strings.ToLower(res.err.Error()), "decrypt") {
			kv = append(kv, "hint", keyHint)
		}
		log.Error(res.err, "cannot join peer, retrying every rejoin interval", append(kv, "interval", r.l.opts.Timings.RejoinInterval)...)
		return
	}
	m.JoinAttempts.WithLabelValues(joinOK).Inc()
	if r.failing[res.peer] {
		delete(r.failing, res.peer)
		log.Info("joined peer again", "peer", res.peer)
		return
	}
	log.V(1).Info("joined peer", "peer", res.peer)
}
