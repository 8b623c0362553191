package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// roundConfig bounds one round.
type roundConfig struct {
	// window is the steady state measured before the kill, for CPU and
	// bytes; hold is how long answers are still watched once the failover
	// is complete; limit gives up on a failover that takes longer.
	window, hold, limit time.Duration
	// every is the sampling period of the timeline.
	every time.Duration
}

// result is one round's figures.
type result struct {
	outcome
	victim string
	ips    int
	// complete: every live speaker dropped the victim and each of its IPs
	// has one owner within limit.
	complete bool
	// steady: the window before the kill; during: the kill to the end.
	steady, during load
	samples        []sample
	// dropped counts packets lost to full receive queues: the
	// simulation falling behind.
	dropped int64
	// loadavg is the machine's 1-minute load average after the round:
	// other work on it delays the simulation too.
	loadavg string
}

// load is what the process spent over a span, per node.
type load struct {
	// util is CPU time over the span's wall time and every core (1 = the
	// machine saturated); cpuPerNode is CPU seconds per second per node;
	// bytesPerNode is gossip sent per second per node.
	util, cpuPerNode, bytesPerNode float64
	// lagP99 is the 99th percentile of how late a 5 ms sleep woke:
	// the scheduler's delay, which grows when the simulation saturates
	// the machine.
	lagP99 time.Duration
}

// round measures the steady state, kills one speaker that owns an IP, and
// follows the failover.
func (c *cluster) round(ctx context.Context, cfg roundConfig, rng *rand.Rand) (result, error) {
	steady := c.measure(ctx, func() { sleepCtx(ctx, cfg.window) })
	victim := c.pickVictim(rng)
	if victim == nil {
		return result{}, fmt.Errorf("no live speaker owns an IP")
	}
	ips := c.board.beginRound(victim.idx)
	t0 := time.Now()
	c.kill(victim)
	live := c.liveMask()
	r := result{victim: victim.name, ips: len(ips), steady: steady}
	r.during = c.measure(ctx, func() { r.samples, r.complete = c.follow(ctx, cfg, t0, ips, live) })
	r.outcome = c.board.outcome(t0, live)
	r.loadavg = loadAvg()
	// The victim's Lease expires: it no longer counts for quorum, and no
	// speaker dials its address any more.
	known := c.liveNames()
	c.known.Store(&known)
	c.pokeAll()
	return r, c.setPeers()
}

// follow samples the failover every cfg.every until it is complete and
// hold has passed since, or until cfg.limit.
func (c *cluster) follow(ctx context.Context, cfg roundConfig, t0 time.Time, ips []int, live []bool) ([]sample, bool) {
	var out []sample
	nLive := 0
	for _, l := range live {
		if l {
			nLive++
		}
	}
	var doneAt time.Time
	for time.Since(t0) < cfg.limit && ctx.Err() == nil {
		s := c.board.sample(t0, ips, live)
		out = append(out, s)
		if doneAt.IsZero() && s.seeDead == nLive && s.settled == len(ips) {
			doneAt = time.Now()
		}
		if !doneAt.IsZero() && time.Since(doneAt) >= cfg.hold {
			return out, true
		}
		sleepCtx(ctx, cfg.every)
	}
	return out, false
}

func (c *cluster) pickVictim(rng *rand.Rand) *speaker {
	var owners []*speaker
	c.board.mu.Lock()
	for _, s := range c.speakers {
		if !s.dead.Load() && len(c.board.owned[s.idx]) > 0 {
			owners = append(owners, s)
		}
	}
	c.board.mu.Unlock()
	if len(owners) == 0 {
		return nil
	}
	return owners[rng.IntN(len(owners))]
}

func (c *cluster) liveMask() []bool {
	out := make([]bool, len(c.speakers))
	for i, s := range c.speakers {
		out[i] = !s.dead.Load()
	}
	return out
}

func (c *cluster) liveNames() []string {
	var out []string
	for _, s := range c.speakers {
		if !s.dead.Load() {
			out = append(out, s.name)
		}
	}
	return out
}

// measure runs f and returns the CPU and gossip bytes spent meanwhile.
func (c *cluster) measure(ctx context.Context, f func()) load {
	lctx, stop := context.WithCancel(ctx)
	lags := make(chan []time.Duration)
	go func() { lags <- probeLag(lctx) }()
	b0, cpu0, t0 := c.sentBytes(), cpuTime(), time.Now()
	f()
	b1, cpu1, wall := c.sentBytes(), cpuTime(), time.Since(t0)
	stop()
	l := <-lags
	n := float64(len(c.liveNames()))
	return load{
		util:         (cpu1 - cpu0).Seconds() / wall.Seconds() / float64(numCPU()),
		cpuPerNode:   (cpu1 - cpu0).Seconds() / wall.Seconds() / n,
		bytesPerNode: float64(b1-b0) / wall.Seconds() / n,
		lagP99:       percentile(l, 0.99),
	}
}

func (c *cluster) sentBytes() int64 {
	var n int64
	for _, s := range c.speakers {
		n += s.tr.sent.Load()
	}
	return n
}

// probeLag sleeps 5 ms at a time until ctx ends, and returns how late
// each sleep woke.
func probeLag(ctx context.Context) []time.Duration {
	var out []time.Duration
	for ctx.Err() == nil {
		t := time.Now()
		time.Sleep(5 * time.Millisecond)
		out = append(out, time.Since(t)-5*time.Millisecond)
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
