package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// line is one round as printed.
func (r result) line(n int, mode string, round int, scale float64) string {
	state := "complete"
	if !r.complete {
		state = "INCOMPLETE"
	}
	return fmt.Sprintf("n=%d timings=%s round %d: killed %s (%d IPs): first saw it %v, all saw it %v, its IPs owned again %v; most owners of an IP %d (%d doubles), %d IPs left unanswered with their owner alive; load average %s; %s | steady: CPU %.0f%% of the machine, %.2f ms/s and %.0f B/s per node, lag p99 %v | failover: CPU %.0f%%, lag p99 %v, %d packets dropped",
		n, mode, round, r.victim, r.ips, unscale(r.firstSeen, scale), unscale(r.converged, scale), unscale(r.owned, scale),
		r.max, r.doubles, r.flaps, r.loadavg, state, 100*r.steady.util, 1000*r.steady.cpuPerNode, r.steady.bytesPerNode, r.steady.lagP99,
		100*r.during.util, r.during.lagP99, r.dropped)
}

// unscale divides a measured time by the timer scale, rounded to the ms.
func unscale(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale).Round(time.Millisecond)
}

// summary is one size's rounds: medians, and the worst where the worst is
// the verdict (owners of an IP, incomplete rounds).
type summary struct {
	mode                                string
	n, rounds, incomplete, maxOwners    int
	flaps                               int
	firstSeen, converged, owned, maxOwn time.Duration
	util, cpuPerNode, bytesPerNode      float64
	lagP99                              time.Duration
}

func summarize(mode string, n int, scale float64, rs []result) summary {
	s := summary{mode: mode, n: n, rounds: len(rs)}
	var first, conv, owned, lag []time.Duration
	var util, cpu, bytes []float64
	for _, r := range rs {
		if !r.complete {
			s.incomplete++
		}
		s.maxOwners = max(s.maxOwners, r.max)
		s.flaps += r.flaps
		first = append(first, unscale(r.firstSeen, scale))
		conv = append(conv, unscale(r.converged, scale))
		owned = append(owned, unscale(r.owned, scale))
		lag = append(lag, r.steady.lagP99, r.during.lagP99)
		util = append(util, r.steady.util, r.during.util)
		cpu = append(cpu, r.steady.cpuPerNode)
		bytes = append(bytes, r.steady.bytesPerNode)
	}
	s.firstSeen, s.converged, s.owned = median(first), median(conv), median(owned)
	s.maxOwn = slices.Max(owned)
	s.lagP99 = slices.Max(lag)
	s.util = slices.Max(util)
	s.cpuPerNode, s.bytesPerNode = median(cpu), median(bytes)
	return s
}

func (s summary) line() string {
	return fmt.Sprintf("n=%d timings=%s median over %d rounds: first saw it %v, all saw it %v, IPs owned again %v (max %v); most owners of an IP %d; %d IPs left unanswered with their owner alive; %d incomplete; %.2f ms/s CPU and %.0f B/s per node; CPU at most %.0f%% of the machine, lag p99 at most %v",
		s.n, s.mode, s.rounds, s.firstSeen, s.converged, s.owned, s.maxOwn, s.maxOwners, s.flaps, s.incomplete, 1000*s.cpuPerNode, s.bytesPerNode, 100*s.util, s.lagP99)
}

// printTable prints the summaries as a Markdown table for docs/benchmarks.md.
func printTable(w io.Writer, sums []summary) {
	fmt.Fprintln(w, "\n| timings | nodes | rounds | first saw it dead | all saw it dead | IPs owned again (median / max) | most owners of an IP | IPs unanswered, owner alive | CPU per node | gossip per node | machine CPU (max) | lag p99 (max) |")
	fmt.Fprintln(w, "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |")
	for _, s := range sums {
		rounds := fmt.Sprint(s.rounds)
		if s.incomplete > 0 {
			rounds += fmt.Sprintf(" (%d incomplete)", s.incomplete)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %v | %v | %v / %v | %d | %d | %.2f ms/s | %.0f B/s | %.0f%% | %v |\n",
			s.mode, s.n, rounds, s.firstSeen, s.converged, s.owned, s.maxOwn, s.maxOwners, s.flaps, 1000*s.cpuPerNode, s.bytesPerNode, 100*s.util, s.lagP99)
	}
}

func median[T cmp.Ordered](d []T) T {
	if len(d) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
