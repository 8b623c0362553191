package burst

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// combine merges the reports of several rounds. Times are the median of
// the rounds, each figure on its own, because one slow round on a shared
// machine says little. p99, peak RSS, the Events' delay and the write
// counts are the worst round's, because the targets bound them in every
// round.
func combine(rounds []*Report) *Report {
	if len(rounds) == 1 {
		return rounds[0]
	}
	median := func(get func(*Report) time.Duration) time.Duration {
		ds := make([]time.Duration, len(rounds))
		for i, r := range rounds {
			ds[i] = get(r)
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	worst := func(get func(*Report) time.Duration) time.Duration {
		var m time.Duration
		for _, r := range rounds {
			m = max(m, get(r))
		}
		return m
	}
	most := func(get func(*Report) Writes) Writes {
		m := get(rounds[0])
		for _, r := range rounds[1:] {
			if w := get(r); w.Total() > m.Total() || w.Failed > m.Failed {
				m = w
			}
		}
		return m
	}
	out := &Report{Services: rounds[0].Services, Clients: rounds[0].Clients, Rounds: rounds}
	out.Floor = Phase{
		Total: median(func(r *Report) time.Duration { return r.Floor.Total }),
		P50:   median(func(r *Report) time.Duration { return r.Floor.P50 }),
		P99:   median(func(r *Report) time.Duration { return r.Floor.P99 }),
	}
	out.Burst = Phase{
		Total: median(func(r *Report) time.Duration { return r.Burst.Total }),
		P50:   median(func(r *Report) time.Duration { return r.Burst.P50 }),
		P99:   worst(func(r *Report) time.Duration { return r.Burst.P99 }),
	}
	out.FloorCreates = median(func(r *Report) time.Duration { return r.FloorCreates })
	out.BurstCreates = median(func(r *Report) time.Duration { return r.BurstCreates })
	out.FloorAPIServerCPU = median(func(r *Report) time.Duration { return r.FloorAPIServerCPU })
	out.BurstAPIServerCPU = median(func(r *Report) time.Duration { return r.BurstAPIServerCPU })
	out.EventsDone = worst(func(r *Report) time.Duration { return r.EventsDone })
	out.BurstCPU = median(func(r *Report) time.Duration { return r.BurstCPU })
	out.DeleteAlone = median(func(r *Report) time.Duration { return r.DeleteAlone })
	out.DeleteWithCtl = median(func(r *Report) time.Duration { return r.DeleteWithCtl })
	out.DeleteAloneAPIServerCPU = median(func(r *Report) time.Duration { return r.DeleteAloneAPIServerCPU })
	out.DeleteAPIServerCPU = median(func(r *Report) time.Duration { return r.DeleteAPIServerCPU })
	out.DeleteCPU = median(func(r *Report) time.Duration { return r.DeleteCPU })
	for _, r := range rounds {
		out.PeakRSSBytes = max(out.PeakRSSBytes, r.PeakRSSBytes)
	}
	out.BurstWrites = most(func(r *Report) Writes { return r.BurstWrites })
	out.RestartWrites = most(func(r *Report) Writes { return r.RestartWrites })
	out.DeleteWrites = most(func(r *Report) Writes { return r.DeleteWrites })
	return out
}

// target is one line of the targets.
type target struct {
	name string
	ok   bool
	got  string
}

func (r *Report) targets() []target {
	perSvc := float64(r.BurstWrites.Total()) / float64(r.Services)
	return []target{
		{"total <= 1.5x floor", r.Burst.Total <= r.Floor.Total*3/2, fmt.Sprintf("%.2fx", float64(r.Burst.Total)/float64(r.Floor.Total))},
		{"p99 <= 1s", r.Burst.P99 <= time.Second, r.Burst.P99.String()},
		{"<= 3 writes per Service, Event included", perSvc <= 3, fmt.Sprintf("%.3f", perSvc)},
		{"restart on a settled cluster writes nothing", r.RestartWrites.Total() == 0, fmt.Sprint(r.RestartWrites.Total())},
		{"delete <= 1.2x without controller", r.DeleteWithCtl <= r.DeleteAlone*6/5, fmt.Sprintf("%.2fx", float64(r.DeleteWithCtl)/float64(r.DeleteAlone))},
		{"no failed writes while deleting", r.DeleteWrites.Failed == 0, fmt.Sprint(r.DeleteWrites.Failed)},
	}
}

// Met tells whether every target is met.
func (r *Report) Met() bool {
	for _, t := range r.targets() {
		if !t.ok {
			return false
		}
	}
	return true
}

// Summary renders the figures for a person.
func (r *Report) Summary() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Fprintf(&b, "burst of %d LoadBalancer Services from %d clients\n", r.Services, r.Clients)
	ratio := func(x, y time.Duration) string { return fmt.Sprintf("%.2fx", float64(x)/float64(y)) }
	for i, rr := range r.Rounds {
		fmt.Fprintf(&b, "  round %d: floor %s, herald %s (%s), p99 %s; delete %s without, %s with (%s)\n", i+1,
			ms(rr.Floor.Total), ms(rr.Burst.Total), ratio(rr.Burst.Total, rr.Floor.Total), ms(rr.Burst.P99),
			ms(rr.DeleteAlone), ms(rr.DeleteWithCtl), ratio(rr.DeleteWithCtl, rr.DeleteAlone))
	}
	if len(r.Rounds) > 1 {
		fmt.Fprintf(&b, "  below: the median of %d rounds; p99, RSS, the Events' delay and the writes are the worst round's\n", len(r.Rounds))
	}
	fmt.Fprintf(&b, "  floor (create + status patch): total %s (creates alone %s), p50 %s, p99 %s\n", ms(r.Floor.Total), ms(r.FloorCreates), ms(r.Floor.P50), ms(r.Floor.P99))
	fmt.Fprintf(&b, "  herald controller:             total %s (creates alone %s), p50 %s, p99 %s\n", ms(r.Burst.Total), ms(r.BurstCreates), ms(r.Burst.P50), ms(r.Burst.P99))
	fmt.Fprintf(&b, "  apiserver CPU until last IP:   floor %s, herald %s\n", ms(r.FloorAPIServerCPU), ms(r.BurstAPIServerCPU))
	fmt.Fprintf(&b, "  allocation Events:             all %d written %s after the first create (they yield to status writes)\n", r.Services, ms(r.EventsDone))
	fmt.Fprintf(&b, "  controller peak RSS:           %.1f MiB, CPU %s\n", float64(r.PeakRSSBytes)/(1<<20), ms(r.BurstCPU))
	w := r.BurstWrites
	n := float64(r.Services)
	fmt.Fprintf(&b, "  writes per Service:            %.3f (service status %.3f, metadata %.3f, events %.3f, serviceannouncements %.3f, pool status %.3f; pool status writes in all: %d, failed: %d, conflicts: %d)\n",
		float64(w.Total())/n, float64(w.ServiceStatus)/n, float64(w.ServiceMetadata)/n, float64(w.Events)/n, float64(w.Announcements)/n, float64(w.PoolStatus)/n, w.PoolStatus, w.Failed, w.Conflicts)
	fmt.Fprintf(&b, "  restart on settled cluster:    %d writes (%v)\n", r.RestartWrites.Total(), r.RestartWrites)
	fmt.Fprintf(&b, "  delete all: without controller %s, with controller %s (%v)\n", ms(r.DeleteAlone), ms(r.DeleteWithCtl), r.DeleteWrites)
	fmt.Fprintf(&b, "  delete CPU:                    apiserver %s without controller, %s with; controller %s\n", ms(r.DeleteAloneAPIServerCPU), ms(r.DeleteAPIServerCPU), ms(r.DeleteCPU))
	for _, t := range r.targets() {
		mark := "MET   "
		if !t.ok {
			mark = "MISSED"
		}
		fmt.Fprintf(&b, "  %s %-45s %s\n", mark, t.name, t.got)
	}
	return b.String()
}
