package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
	"github.com/heraldlb/herald/internal/election"
)

// benchLifecycle measures what a client sees when an owner's node leaves
// while its speaker runs (cordon, the out-of-service taint, the exclude
// label), trials rounds of each, and how long an IP goes unanswered when two
// of the three speakers are killed at once.
func benchLifecycle(ctx context.Context, l *lab.Lab, r *report, trials int) error {
	var kept []*corev1.Service
	defer func() {
		for _, svc := range kept {
			_ = l.DeleteService(context.Background(), svc)
		}
	}()
	for _, how := range measure.Leaves {
		var firstGARP []time.Duration
		failed, straddled := 0, 0
		for k := range trials {
			svc, ip, err := oneService(ctx, l, "lifecycle-bench", fmt.Sprintf("%s-%d", slug(how.Name), k), "lan")
			if err != nil {
				return err
			}
			kept = append(kept, svc)
			rank := election.Rank(ip, nodeNames(l))
			if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 15*time.Second); err != nil {
				return err
			}
			h, err := measure.LeaveNode(ctx, l, ip, l.NodeIndex(rank[0]), rank[1], how)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", how.Name, k+1, err)
			}
			failed += h.Failed
			straddled += h.Straddled
			firstGARP = append(firstGARP, h.FirstGratuitous)
			r.logf("%s round %d (%s, owner %s): %d of %d probes failed (%d in flight at the switch); first gratuitous naming the new owner %v after, first from the new owner itself %v",
				how.Name, k+1, ip, rank[0], h.Failed, h.Probes, h.Straddled, h.FirstGratuitous.Round(time.Microsecond), h.FirstFromNewOwner.Round(time.Microsecond))
			for _, f := range h.Failures {
				r.note("%s", f)
			}
		}
		r.judge("L2 "+how.Name+": first gratuitous packet naming the new owner", firstGARP,
			fmt.Sprintf("0 failed probes over %d rounds (failed: %d, of which %d in flight at the switch), max <= 1s", trials, failed, straddled), failed == 0 && measure.Summarize(firstGARP).Max <= time.Second)
	}
	return twoOfThree(ctx, l, r, 3)
}

// twoOfThree kills the speakers of an IP's owner and of one other node at
// once (SIGKILL: no handover, no leave) and measures until the third node
// answers for the IP.
func twoOfThree(ctx context.Context, l *lab.Lab, r *report, rounds int) error {
	var unanswered []time.Duration
	for k := range rounds {
		svc, ip, err := oneService(ctx, l, "lifecycle-bench", fmt.Sprintf("two-of-three-%d", k), "lan")
		if err != nil {
			return err
		}
		rank := election.Rank(ip, nodeNames(l))
		if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 15*time.Second); err != nil {
			return err
		}
		killed := time.Now()
		for _, n := range rank[:2] {
			if err := l.SignalSpeaker(l.NodeIndex(n), syscall.SIGKILL); err != nil {
				return err
			}
		}
		took, aerr := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[2], 90*time.Second)
		took = time.Since(killed)
		for _, n := range rank[:2] {
			i := l.NodeIndex(n)
			l.StopSpeaker(i, time.Second)
			if err := l.StartSpeaker(i); err != nil {
				return err
			}
		}
		if aerr != nil {
			return fmt.Errorf("two of three, round %d: %s did not answer: %w", k+1, rank[2], aerr)
		}
		unanswered = append(unanswered, took)
		r.logf("two of three round %d (%s): speakers of %s and %s killed; %s answered %v after", k+1, ip, rank[0], rank[1], rank[2], took.Round(time.Millisecond))
		if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 60*time.Second); err != nil {
			return fmt.Errorf("two of three, round %d, after the restart: %w", k+1, err)
		}
		_ = l.DeleteService(ctx, svc)
	}
	r.judge("L2 two of three speakers killed at once: IP unanswered for", unanswered, "max <= 10s", measure.Summarize(unanswered).Max <= 10*time.Second)
	return nil
}

func slug(s string) string { return strings.ReplaceAll(s, " ", "-") }
