package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
	"github.com/heraldlb/herald/internal/election"
)

// benchL2 runs the Layer 2 measurements on l, whose samples' pool "lan"
// is announced on eth0.
func benchL2(ctx context.Context, l *lab.Lab, r *report, trials, announceTrials, services int) error {
	names := nodeNames(l)
	var down, heal, firstGARP, ownGARP []time.Duration
	failedProbes := 0
	// Each round keeps its Service, so that rounds fail over different IPs
	// and owners; they all go at the end.
	var kept []*corev1.Service
	defer func() {
		for _, svc := range kept {
			_ = l.DeleteService(context.Background(), svc)
		}
	}()
	for k := range trials {
		svc, ip, err := oneService(ctx, l, "l2-bench", fmt.Sprintf("trial-%d", k), "lan")
		if err != nil {
			return err
		}
		rank := election.Rank(ip, names)
		w, next := l.NodeIndex(rank[0]), rank[1]
		if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 15*time.Second); err != nil {
			return err
		}
		outage, err := measure.LinkDown(ctx, l, ip, w, next)
		if err != nil {
			return fmt.Errorf("link down, round %d: %w", k+1, err)
		}
		h, err := measure.Handover(ctx, l, ip, w, next)
		if err != nil {
			return fmt.Errorf("handover, round %d: %w", k+1, err)
		}
		healed, err := measure.Partition(ctx, l, ip, w, next)
		if err != nil {
			return fmt.Errorf("partition, round %d: %w", k+1, err)
		}
		down, heal = append(down, outage), append(heal, healed)
		firstGARP, ownGARP = append(firstGARP, h.FirstGratuitous), append(ownGARP, h.FirstFromNewOwner)
		failedProbes += h.Failed
		r.logf("L2 round %d (%s, owner %s): link-down outage %v; SIGTERM: %d of %d probes failed, first gratuitous naming the new owner %v after the signal, first from the new owner itself %v; partition: one responder %v after the heal",
			k+1, ip, rank[0], outage.Round(time.Millisecond), h.Failed, h.Probes, h.FirstGratuitous.Round(time.Microsecond), h.FirstFromNewOwner.Round(time.Millisecond), healed.Round(time.Millisecond))
		kept = append(kept, svc)
	}
	s := measure.Summarize(down)
	r.judge("L2 link-down outage", down, "p50 <= 1s and max <= 1.5s (MetalLB: 6.1s and 7.0s)", s.P50 <= time.Second && s.Max <= 1500*time.Millisecond)
	r.judge("L2 SIGTERM: first gratuitous packet naming the new owner (sent by the leaving node)", firstGARP,
		fmt.Sprintf("max <= 100ms, and 0 failed probes (failed: %d)", failedProbes), measure.Summarize(firstGARP).Max <= 100*time.Millisecond && failedProbes == 0)
	r.judge("L2 SIGTERM: first gratuitous packet sent by the new owner itself", ownGARP,
		"max <= 100ms (MetalLB: 190ms)", measure.Summarize(ownGARP).Max <= 100*time.Millisecond)
	r.judge("L2 partition heal: one responder after", heal, "max <= 2s (MetalLB: 8-27s)", measure.Summarize(heal).Max <= 2*time.Second)

	if err := announceTime(ctx, l, r, announceTrials); err != nil {
		return err
	}
	return manyL2(ctx, l, r, services)
}

// oneService creates a Service from pool with endpoints on every node, and
// returns it with its IP.
func oneService(ctx context.Context, l *lab.Lab, ns, name, pool string, opts ...lab.ServiceOption) (*corev1.Service, netip.Addr, error) {
	if _, err := l.CreateService(ctx, ns, name, l.Nodes, append([]lab.ServiceOption{lab.WithPool(pool)}, opts...)...); err != nil {
		return nil, netip.Addr{}, err
	}
	svc, err := l.WaitForIPs(ctx, ns, name, 1, 30*time.Second)
	if err != nil {
		return nil, netip.Addr{}, err
	}
	return svc, lab.IngressIPs(svc)[0], nil
}

// announceTime measures, over n Services, the time from the create call
// until the LAN client's ARP request is answered.
func announceTime(ctx context.Context, l *lab.Lab, r *report, n int) error {
	var ds []time.Duration
	for k := range n {
		name := fmt.Sprintf("announce-%d", k)
		start := time.Now()
		svc, err := l.CreateService(ctx, "l2-announce", name, l.Nodes, lab.WithPool("lan"))
		if err != nil {
			return err
		}
		var ip netip.Addr
		err = lab.PollUntil(ctx, 5*time.Millisecond, 30*time.Second, func() (bool, error) {
			if !ip.IsValid() {
				got, err := l.Service(ctx, svc.Namespace, svc.Name)
				if err != nil || len(lab.IngressIPs(got)) == 0 {
					return false, nil
				}
				ip = lab.IngressIPs(got)[0]
			}
			macs, err := lab.NeighborAnswersWithin(ctx, lab.ClientNS, ip, 30*time.Millisecond)
			return err == nil && len(macs) > 0, nil
		})
		if err != nil {
			return fmt.Errorf("announce round %d: %s unanswered: %w", k+1, ip, err)
		}
		ds = append(ds, time.Since(start))
		if err := l.DeleteService(ctx, svc); err != nil {
			return err
		}
	}
	r.judge("L2 Service create to ARP answer", ds, "reported (no target)", true)
	return nil
}

// manyL2 creates n IPv6 Layer 2 Services (IPv6 for their cluster IPs) and
// reports how long until the speakers announce them all, and what that
// cost them.
func manyL2(ctx context.Context, l *lab.Lab, r *report, n int) error {
	adv := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "bench-l2"},
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"bench-l2"}}}
	ld, err := loadServices(ctx, l, "bench-l2", lab.BenchL2Pool6, adv, "l2-many", n, 5*time.Minute)
	if err != nil {
		return err
	}
	before, start, created, allocated := ld.before, ld.start, ld.created, ld.allocated
	err = lab.PollUntil(ctx, 500*time.Millisecond, 5*time.Minute, func() (bool, error) {
		total := 0
		for _, node := range l.Nodes {
			st, err := l.HeraldNode(ctx, node.Name)
			if err != nil {
				return false, nil
			}
			total += countPrefix(st.Layer2, lab.BenchL2Pool6)
		}
		return total >= n, nil
	})
	if err != nil {
		return fmt.Errorf("the speakers do not announce all %d Services: %w", n, err)
	}
	announced := time.Since(start)
	after, err := speakerStats(l)
	if err != nil {
		return err
	}
	r.logf("L2 with %d Services on %d nodes: created in %v, all allocated after %v, all announced after %v", n, len(l.Nodes),
		created.Round(time.Millisecond), allocated.Round(time.Millisecond), announced.Round(time.Millisecond))
	r.note("speakers over that time: %s", costLine(before, after))
	return nil
}

// countPrefix counts the Layer 2 entries whose IP is in p.
func countPrefix(layer2 []v1beta1.Layer2Announcement, p netip.Prefix) int {
	n := 0
	for _, e := range layer2 {
		if ip, err := netip.ParseAddr(e.IP); err == nil && p.Contains(ip) {
			n++
		}
	}
	return n
}
