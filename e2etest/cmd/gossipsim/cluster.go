package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"

	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/liveness"
)

// simKey is the gossip key of every simulated speaker: the simulation
// encrypts as production does, so that its CPU figures include AES-GCM.
var simKey = []byte("herald-gossipsim")

// healthLimit is the speaker's default HealthLimit: a speaker with a
// health score of 1 or more claims nothing (election.Healthy).
const healthLimit = 1

// speaker is one simulated speaker: Herald's real liveness over the
// simulated network, and a loop that works out, from its own view of the
// members, which IPs it would answer for.
type speaker struct {
	idx    int
	name   string
	addr   netip.AddrPort
	l      *liveness.Liveness
	tr     *simTransport
	poke   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	dead   atomic.Bool
}

// cluster is the simulated cluster: its speakers, the Service IPs, and
// each IP's ranking of the nodes (election.Rank over every node).
type cluster struct {
	net      *simNet
	speakers []*speaker
	index    map[string]int
	ips      []netip.Addr
	rank     [][]int
	board    *board
	// known are the speakers that count for quorum (election.Known): those
	// whose Leases have not expired. A speaker killed in an earlier round
	// has left it.
	known atomic.Pointer[[]string]
	// started: every speaker sees every other, and may claim.
	started atomic.Bool
}

// newCluster makes n speakers with timings and ipsPerNode Service IPs per
// node, starting nothing.
func newCluster(n, ipsPerNode int, t liveness.Timings, sn *simNet) (*cluster, error) {
	c := &cluster{net: sn, index: map[string]int{}}
	var names []string
	for i := range n {
		s, err := c.newSpeaker(i, t)
		if err != nil {
			return nil, err
		}
		c.speakers = append(c.speakers, s)
		c.index[s.name] = i
		names = append(names, s.name)
	}
	c.known.Store(&names)
	for i := range n * ipsPerNode {
		ip := netip.AddrFrom4([4]byte{198, 19, byte(i / 250), byte(i%250 + 1)})
		c.ips = append(c.ips, ip)
		var r []int
		for _, name := range election.Rank(ip, names) {
			r = append(r, c.index[name])
		}
		c.rank = append(c.rank, r)
	}
	c.board = newBoard(len(c.ips), n)
	return c, nil
}

func (c *cluster) newSpeaker(i int, t liveness.Timings) (*speaker, error) {
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)}), liveness.DefaultPort)
	tr := c.net.transport(addr)
	l, err := liveness.New(liveness.Options{
		Name: fmt.Sprintf("node-%03d", i), AdvertiseAddr: addr.Addr(), SecretKey: simKey, Timings: t, Log: logr.Discard(),
		Transport: func() (memberlist.NodeAwareTransport, error) { return tr, nil },
	})
	if err != nil {
		return nil, fmt.Errorf("make speaker %d: %w", i, err)
	}
	return &speaker{idx: i, name: fmt.Sprintf("node-%03d", i), addr: addr, l: l, tr: tr,
		poke: make(chan struct{}, 1), done: make(chan struct{})}, nil
}

// start runs every speaker, in batches: each batch joins the first
// speaker, and the next batch starts once the first sees the whole batch,
// so that joins do not all ask one speaker for its state at once. Then
// each is given every other's address, as the speakers' Leases give them
// in a real cluster, and once every speaker sees every other they may
// claim IPs (the real speaker settles before it claims, too).
func (c *cluster) start(ctx context.Context, limit time.Duration, cold bool) error {
	if cold {
		return c.coldStart(ctx, limit)
	}
	seed := []netip.AddrPort{c.speakers[0].addr}
	deadline := time.Now().Add(limit)
	for i, s := range c.speakers {
		if err := s.l.Set(liveness.Desired{Peers: seed}); err != nil {
			return fmt.Errorf("set peers of %s: %w", s.name, err)
		}
		sctx, cancel := context.WithCancel(ctx)
		s.cancel = cancel
		go s.run(sctx, c)
		if i%startBatch == startBatch-1 {
			// Bounded: a speaker the first one wrongly dropped meanwhile
			// comes back only once everyone has more peers, below.
			batch := time.Now().Add(2 * time.Second)
			for len(c.speakers[0].l.Members()) <= i && time.Now().Before(batch) {
				sleepCtx(ctx, 20*time.Millisecond)
			}
		}
	}
	// Every address, as from the Leases: the rejoin loop heals what the
	// start-up declared dead. Given before the batches had joined, it made
	// each speaker join every one it did not see yet, a full state
	// exchange each: N² of them, which saturated this machine at 100.
	if err := c.setPeers(); err != nil {
		return err
	}
	if err := c.waitConverged(ctx, time.Until(deadline)); err != nil {
		return err
	}
	c.board.reset()
	c.started.Store(true)
	c.pokeAll()
	return nil
}

// coldStart runs every speaker at once, each given every other's address
// from the start: a whole cluster restarting, its speakers finding one
// another only through the Leases, which is the case the rejoin loop's
// bound on joins per round is for.
func (c *cluster) coldStart(ctx context.Context, limit time.Duration) error {
	if err := c.setPeers(); err != nil {
		return err
	}
	for _, s := range c.speakers {
		sctx, cancel := context.WithCancel(ctx)
		s.cancel = cancel
		go s.run(sctx, c)
	}
	if err := c.waitConverged(ctx, limit); err != nil {
		return err
	}
	c.board.reset()
	c.started.Store(true)
	c.pokeAll()
	return nil
}

// startBatch is how many speakers start at once.
const startBatch = 20

// pokeAll makes every live speaker work out its claims again.
func (c *cluster) pokeAll() {
	for _, s := range c.speakers {
		if !s.dead.Load() {
			select {
			case s.poke <- struct{}{}:
			default:
			}
		}
	}
}

// setPeers gives every live speaker the addresses of the others alive.
func (c *cluster) setPeers() error {
	var all []netip.AddrPort
	for _, s := range c.speakers {
		if !s.dead.Load() {
			all = append(all, s.addr)
		}
	}
	for _, s := range c.speakers {
		if s.dead.Load() {
			continue
		}
		if err := s.l.Set(liveness.Desired{Peers: all}); err != nil {
			return fmt.Errorf("set peers of %s: %w", s.name, err)
		}
	}
	return nil
}

// waitConverged waits until every live speaker sees exactly the live ones.
func (c *cluster) waitConverged(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var want []string
		for _, s := range c.speakers {
			if !s.dead.Load() {
				want = append(want, s.name)
			}
		}
		ok := 0
		for _, s := range c.speakers {
			if !s.dead.Load() && slices.Equal(names(s.l.Members()), want) {
				ok++
			}
		}
		if ok == len(want) {
			return nil
		}
		if time.Now().After(deadline) {
			var seen []int
			for _, s := range c.speakers {
				if !s.dead.Load() {
					seen = append(seen, len(s.l.Members()))
				}
			}
			return fmt.Errorf("only %d of %d speakers see all %d live ones after %v (they see %v)", ok, len(want), len(want), limit, seen)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func names(ms []liveness.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// run is the speaker: Herald's liveness, and a claim loop that works out
// its IPs on every membership change, as the real speaker plans on one.
func (s *speaker) run(ctx context.Context, c *cluster) {
	defer close(s.done)
	go s.tr.pump()
	errs := make(chan error, 1)
	go func() { errs <- s.l.Run(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-errs
			return
		case <-s.l.Changes():
		case <-s.poke:
		}
		c.claim(s)
	}
}

// claim works out what s answers for from its own view: quorum by
// election.Decide and election.Healthy, and for each IP the winner among the
// live nodes. The winner is the first live node in the IP's election.Rank,
// which is election.Winner over the live nodes: the same scores, in the
// same total order.
func (c *cluster) claim(s *speaker) {
	members := s.l.Members()
	alive := make([]bool, len(c.speakers))
	aliveNames := make([]string, 0, len(members))
	for _, m := range members {
		if i, ok := c.index[m.Name]; ok {
			alive[i] = true
			aliveNames = append(aliveNames, m.Name)
		}
	}
	v := election.Decide(s.name, *c.known.Load(), aliveNames, election.TieLease{}, time.Now())
	var owned []int
	if c.started.Load() && v.Claim && election.Healthy(v, s.l.HealthScore(), healthLimit) {
		for ip, r := range c.rank {
			for _, n := range r {
				if alive[n] {
					if n == s.idx {
						owned = append(owned, ip)
					}
					break
				}
			}
		}
	}
	c.board.set(s, owned, alive)
}

// kill stops s without leaving, as a node that loses power: it answers for
// nothing from now on, and its host drops off the network.
func (c *cluster) kill(s *speaker) {
	s.dead.Store(true)
	c.board.drop(s)
	_ = s.tr.Shutdown()
	s.cancel()
	<-s.done
}

// stop ends every speaker.
func (c *cluster) stop() {
	for _, s := range c.speakers {
		if s.cancel != nil {
			s.cancel()
		}
	}
	for _, s := range c.speakers {
		if s.cancel != nil {
			<-s.done
		}
	}
}
