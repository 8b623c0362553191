package faults

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

const leaseName = "herald-controller.heraldlb.io"

// TestFailover runs two replicas with the shipped defaults, kills the leader
// with SIGKILL, and measures the time from the kill to the next allocation;
// then the same with a graceful stop. Nothing may be duplicated or moved,
// and the leader may write its Lease at most once a second.
func TestFailover(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t, "failover")
	a, b := startController(t, "a"), startController(t, "b")
	createPool(t, ns, "failover", []string{"2001:db8:f0::/112"})
	o := observe(t, ns)
	leader := leaderOf(t, time.Minute, a, b)

	const n = 200
	ctx := context.Background()
	var svcs []*corev1.Service
	for i := range n {
		svcs = append(svcs, lbService(ns, fmt.Sprintf("s%03d", i)))
	}
	if err := createServices(ctx, svcs); err != nil {
		t.Fatal(err)
	}
	waitAllocated(t, ns, n, time.Minute)

	writes, per := leaseWrites(t, 10*time.Second)
	t.Logf("Lease writes: %d in 10 s (%.2f/s)", writes, per)
	if per > 1.05 {
		t.Errorf("the leader writes its Lease %.2f times a second, want at most 1", per)
	}

	rounds := []struct {
		name string
		end  func(*controller) time.Time
	}{
		{"SIGKILL", (*controller).kill}, {"SIGKILL", (*controller).kill}, {"SIGKILL", (*controller).kill},
		{"SIGTERM", (*controller).stop}, {"SIGTERM", (*controller).stop}, {"SIGTERM", (*controller).stop},
	}
	took := map[string][]time.Duration{}
	for i, r := range rounds {
		standby := a
		if leader == a {
			standby = b
		}
		at := r.end(leader)
		probe := lbService(ns, fmt.Sprintf("after-%d", i))
		if _, err := cs.CoreV1().Services(ns).Create(ctx, probe, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, func() error {
			if _, ok := o.firstSeen(svcKey(probe)); !ok {
				return fmt.Errorf("%s has no IP yet, %v after the %s", probe.Name, time.Since(at).Round(time.Millisecond), r.name)
			}
			return nil
		})
		seen, _ := o.firstSeen(svcKey(probe))
		d := seen.Sub(at)
		took[r.name] = append(took[r.name], d)
		t.Logf("round %d, %s of %s: next allocation after %v", i, r.name, leader.name, d.Round(time.Millisecond))
		leader.start(t) // the replica comes back, as Kubernetes would restart it
		if next := leaderOf(t, 30*time.Second, a, b); next != standby {
			t.Fatalf("after the %s of %s, %s leads", r.name, leader.name, next.name)
		}
		leader = standby
	}
	for name, ds := range took {
		slices.Sort(ds)
		t.Logf("takeover after %s: median %v, max %v, all %v", name, ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond), ds)
	}
	if worst := slices.Max(took["SIGKILL"]); worst > 8*time.Second {
		t.Errorf("takeover after SIGKILL took up to %v, want about 5 s", worst)
	}
	if worst := slices.Max(took["SIGTERM"]); worst > 4*time.Second {
		t.Errorf("takeover after a graceful stop took up to %v, want it quick: the Lease is released", worst)
	}
	waitAllocated(t, ns, n+len(rounds), time.Minute)
	if d := o.duplicates(); len(d) > 0 {
		t.Errorf("duplicates:\n%v", d)
	}
	if m := o.moved(func(string) bool { return false }); len(m) > 0 {
		t.Errorf("IPs moved:\n%v", m)
	}
	for _, c := range []*controller{a, b} {
		if x := c.unexpectedExits(); len(x) > 0 {
			t.Errorf("%s exited on its own: %v", c.name, x)
		}
	}
}

// leaseWrites counts the changes of the leader-election Lease over d.
func leaseWrites(t *testing.T, d time.Duration) (int, float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	w, err := cs.CoordinationV1().Leases(kube.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + leaseName})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	n, first := 0, true
	for ev := range w.ResultChan() {
		if ev.Type == watch.Added && first {
			first = false // the Lease as it is when the watch starts
			continue
		}
		if ev.Type == watch.Modified {
			n++
		}
	}
	return n, float64(n) / d.Seconds()
}
