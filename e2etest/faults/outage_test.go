package faults

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/internal/testenv"
)

// outageLength is how long etcd and the apiserver stay down.
func outageLength() time.Duration {
	if os.Getenv("HERALD_SOAK") == "1" {
		return 3 * time.Minute
	}
	return time.Minute
}

// TestAPIServerOutage stops etcd and the apiserver for a minute while a
// client keeps creating Services, then starts them again on the same data.
// The controller must resync without restarting, converge (every Service
// allocated, pool counts exact), allocate nothing twice and move nothing,
// and release every IP once the Services are deleted.
func TestAPIServerOutage(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t, "outage")
	a, b := startController(t, "outage-a"), startController(t, "outage-b")
	createPool(t, ns, "outage", []string{"2001:db8:a0::/112"})
	o := observe(t, ns)
	leaderOf(t, time.Minute, a, b)

	ctx := context.Background()
	const before = 100
	var svcs []*corev1.Service
	for i := range before {
		svcs = append(svcs, lbService(ns, fmt.Sprintf("before-%03d", i)))
	}
	if err := createServices(ctx, svcs); err != nil {
		t.Fatal(err)
	}
	waitAllocated(t, ns, before, time.Minute)
	pids := map[string]int{a.name: a.pid(), b.name: b.pid()}

	// A client creates a Service every 200 ms, retrying through the outage.
	stop := make(chan struct{})
	created := make(chan int, 1)
	go func() {
		n := 0
		defer func() { created <- n }()
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { <-stop; cancel() }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			if err := createRetrying(cctx, lbService(ns, fmt.Sprintf("during-%03d", n))); err != nil {
				return // stopped while retrying: that one may or may not exist
			}
			n++
		}
	}()
	time.Sleep(2 * time.Second)
	restart, err := env.Outage()
	if err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	t.Logf("etcd and the apiserver stopped for %v", outageLength())
	time.Sleep(outageLength())
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := restart(rctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("back after %v", back.Sub(down).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // a few more creates once it is back
	close(stop)
	n := <-created

	// Convergence: a leader that has caught up, every Service with its IP,
	// exact pool counts.
	list, err := cs.CoreV1().Services(ns).List(ctx, metav1ListAll)
	if err != nil {
		t.Fatal(err)
	}
	total := len(list.Items)
	leaderOf(t, 2*time.Minute, a, b)
	t.Logf("a replica leads and has caught up %v after the apiserver was back", time.Since(back).Round(time.Millisecond))
	waitAllocated(t, ns, total, 2*time.Minute)
	eventually(t, time.Minute, func() error { return checkPoolCounts(ctx, ns, []string{"outage"}) })
	t.Logf("converged %v after the apiserver was back: %d Services, %d created by the client meanwhile",
		time.Since(back).Round(time.Millisecond), total, n)

	for _, c := range []*controller{a, b} {
		if c.pid() != pids[c.name] {
			t.Errorf("%s restarted: pid %d, was %d", c.name, c.pid(), pids[c.name])
		}
		if x := c.unexpectedExits(); len(x) > 0 {
			t.Errorf("%s exited: %v", c.name, x)
		}
		t.Logf("%s: %v", c.name, c.usage())
	}
	if d := o.duplicates(); len(d) > 0 {
		t.Errorf("duplicates:\n%v", d)
	}
	if m := o.moved(func(string) bool { return false }); len(m) > 0 {
		t.Errorf("IPs moved:\n%v", m)
	}

	// Services deleted now, while the informers may still wait to list
	// again, give their IPs back: those the cache shows once it lists
	// again (client-go waits up to a minute), and those the leader only
	// ever read from the apiserver, whose deletion raises no event, at the
	// next sweep.
	deleted := time.Now()
	deleteServices(t, ns)
	eventually(t, 2*time.Minute, func() error { return checkPoolCounts(ctx, ns, []string{"outage"}) })
	t.Logf("every IP released %v after the Services were deleted, %v after the apiserver was back",
		time.Since(deleted).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
}
