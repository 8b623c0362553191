package main

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
)

// benchBGP runs the BGP measurements on l, whose samples peer every node
// with the router ("tor") and advertise pool "routed" to it.
func benchBGP(ctx context.Context, l *lab.Lab, r *report, trials, services, coldRounds int) error {
	// Steady state: the sessions are up before anything is timed. How long
	// they take after the lab starts is GoBGP's first connect, 1-2 s by
	// design, plus the router's answer.
	start := time.Now()
	if err := waitSessions(ctx, l, time.Minute); err != nil {
		return err
	}
	r.logf("BGP sessions of every node established %v after the lab was up", time.Since(start).Round(time.Millisecond))
	var first, full []time.Duration
	for k := range trials {
		start = time.Now()
		svc, err := l.CreateService(ctx, "bgp-bench", fmt.Sprintf("route-%d", k), l.Nodes, lab.WithPool("routed"))
		if err != nil {
			return err
		}
		var ip netip.Addr
		var firstAt time.Duration
		err = lab.PollUntil(ctx, 5*time.Millisecond, 30*time.Second, func() (bool, error) {
			if !ip.IsValid() {
				got, err := l.Service(ctx, svc.Namespace, svc.Name)
				if err != nil || len(lab.IngressIPs(got)) == 0 {
					return false, nil
				}
				ip = lab.IngressIPs(got)[0]
			}
			hops, err := lab.KernelNextHops(ctx, ip)
			if err != nil {
				return false, err
			}
			if len(hops) > 0 && firstAt == 0 {
				firstAt = time.Since(start)
			}
			return len(hops) == len(l.Nodes), nil
		})
		if err != nil {
			return fmt.Errorf("route round %d (%s): %w", k+1, ip, err)
		}
		first, full = append(first, firstAt), append(full, time.Since(start))
		r.logf("BGP round %d (%s): route after %v, over every node after %v", k+1, ip, firstAt.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if err := l.DeleteService(ctx, svc); err != nil {
			return err
		}
		if _, err := lab.WaitKernelNextHops(ctx, ip, nil, 20*time.Second); err != nil {
			return err
		}
	}
	r.judge("BGP Service create to route in the router's kernel table", first, "p99 <= 1s", measure.Summarize(first).P99 <= time.Second)
	r.judge("BGP Service create to ECMP over all nodes", full, "reported (no target)", true)
	return manyBGP(ctx, l, r, services, coldRounds)
}

// manyBGP advertises n IPv6 Services (IPv6 for their cluster IPs) and
// reports how long until the router has every route from every node, what
// it cost the speakers, and how long the routes take to come back after
// every speaker restarts, over coldRounds rounds.
func manyBGP(ctx context.Context, l *lab.Lab, r *report, n, coldRounds int) error {
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "bench-bgp"},
		Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bench-bgp"}, Peers: []string{"tor"}}}
	ld, err := loadServices(ctx, l, "bench-bgp", lab.BenchBGPPool6, adv, "bgp-many", n, 10*time.Minute)
	if err != nil {
		return err
	}
	before, start, created, allocated := ld.before, ld.start, ld.created, ld.allocated
	if err := waitRoutes(ctx, l, n, 10*time.Minute); err != nil {
		return err
	}
	routed := time.Since(start)
	after, err := speakerStats(l)
	if err != nil {
		return err
	}
	r.logf("BGP with %d Services on %d nodes: created in %v, all allocated after %v, the router had every route from every node after %v",
		n, len(l.Nodes), created.Round(time.Millisecond), allocated.Round(time.Millisecond), routed.Round(time.Millisecond))
	r.note("speakers over that time: %s", costLine(before, after))
	routesAfterIPs := routed - allocated
	r.judge(fmt.Sprintf("BGP %d routes: from the last IP allocated to the router having them all", n), []time.Duration{routesAfterIPs},
		"<= 10s", routesAfterIPs <= 10*time.Second)

	colds, err := coldStarts(ctx, l, r, n, coldRounds)
	if err != nil {
		return err
	}
	cold, err := speakerStats(l)
	if err != nil {
		return err
	}
	s := measure.Summarize(colds)
	r.judge(fmt.Sprintf("BGP %d routes after every speaker restarted (cold start)", n), colds, "median <= 3s, max <= 5s", s.P50 <= 3*time.Second && s.Max <= 5*time.Second)
	r.note("speakers after the last cold start: %s", costLine(make([]procStat, len(cold)), cold))
	return nil
}

// coldStarts restarts every speaker with the n Services in place, rounds
// times, and returns how long each round took from the restart until the
// router had every route from every node again.
func coldStarts(ctx context.Context, l *lab.Lab, r *report, n, rounds int) ([]time.Duration, error) {
	var colds []time.Duration
	for round := range rounds {
		for i := range l.Nodes {
			l.StopSpeaker(i+1, 10*time.Second)
		}
		if err := waitRoutes(ctx, l, 0, 2*time.Minute); err != nil {
			return nil, fmt.Errorf("routes left after every speaker stopped: %w", err)
		}
		restart := time.Now()
		for i := range l.Nodes {
			if err := l.StartSpeaker(i + 1); err != nil {
				return nil, err
			}
		}
		if err := waitSessions(ctx, l, 2*time.Minute); err != nil {
			return nil, err
		}
		sessions := time.Since(restart)
		if err := waitRoutes(ctx, l, n, 5*time.Minute); err != nil {
			return nil, err
		}
		back := time.Since(restart)
		colds = append(colds, back)
		r.logf("BGP cold start round %d: every speaker restarted; sessions up after %v, every route back after %v",
			round+1, sessions.Round(time.Millisecond), back.Round(time.Millisecond))
	}
	return colds, nil
}

// waitRoutes waits until every node's session has sent the router at
// least n routes (exactly none when n is 0).
func waitRoutes(ctx context.Context, l *lab.Lab, n int, timeout time.Duration) error {
	var last string
	err := lab.PollUntil(ctx, 200*time.Millisecond, timeout, func() (bool, error) {
		ns, err := lab.BGPNeighbors(ctx)
		if err != nil {
			return false, nil // FRR may be busy with the routes
		}
		var parts []string
		done := 0
		for _, nb := range ns {
			parts = append(parts, fmt.Sprintf("%s:%s/%d", nb.Address, nb.State, nb.Received))
			if nb.Address.Is4() && (n == 0 && nb.Received == 0 || n > 0 && nb.Received >= n) {
				done++
			}
		}
		last = strings.Join(parts, " ")
		return done == len(l.Nodes), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d routes per node: %w (router: %s)", n, err, last)
	}
	return nil
}

// waitSessions waits until the router has an established session with
// every node's IPv4 address.
func waitSessions(ctx context.Context, l *lab.Lab, timeout time.Duration) error {
	return lab.PollUntil(ctx, 100*time.Millisecond, timeout, func() (bool, error) {
		ns, err := lab.BGPNeighbors(ctx)
		if err != nil {
			return false, nil
		}
		up := 0
		for _, n := range ns {
			if n.Address.Is4() && n.State == "Established" {
				up++
			}
		}
		return up == len(l.Nodes), nil
	})
}
