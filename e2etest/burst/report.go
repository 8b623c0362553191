package burst

import (
	"fmt"
	"strings"
	"time"
)

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
	fmt.Fprintf(&b, "  floor (create + status patch): total %s (creates alone %s), p50 %s, p99 %s\n", ms(r.Floor.Total), ms(r.FloorCreates), ms(r.Floor.P50), ms(r.Floor.P99))
	fmt.Fprintf(&b, "  herald controller:             total %s (creates alone %s), p50 %s, p99 %s\n", ms(r.Burst.Total), ms(r.BurstCreates), ms(r.Burst.P50), ms(r.Burst.P99))
	fmt.Fprintf(&b, "  apiserver CPU until last IP:   floor %s, herald %s\n", ms(r.FloorAPIServerCPU), ms(r.BurstAPIServerCPU))
	fmt.Fprintf(&b, "  allocation Events:             all %d written %s after the first create (they yield to status writes)\n", r.Services, ms(r.EventsDone))
	fmt.Fprintf(&b, "  controller peak RSS:           %.1f MiB, CPU %s\n", float64(r.PeakRSSBytes)/(1<<20), ms(r.BurstCPU))
	w := r.BurstWrites
	n := float64(r.Services)
	fmt.Fprintf(&b, "  writes per Service:            %.3f (service status %.3f, metadata %.3f, events %.3f, pool status %.3f; pool status writes in all: %d, failed: %d)\n",
		float64(w.Total())/n, float64(w.ServiceStatus)/n, float64(w.ServiceMetadata)/n, float64(w.Events)/n, float64(w.PoolStatus)/n, w.PoolStatus, w.Failed)
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
