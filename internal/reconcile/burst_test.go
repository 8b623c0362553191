package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestBurstWritesPerService creates Services from 16 clients and checks the
// controller's writes: one status patch (which also carries the pool
// annotation) and one Event per Service, and a handful of pool status writes
// for the whole burst.
func TestBurstWritesPerService(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	var writes writeCounter
	m := startManager(t, &writes, func(o *Options) { o.PoolStatusDelay = time.Second })
	cleanup(t, ns, "burst")
	createPool(t, "burst", ns, []string{"203.0.113.0/24"})
	const n, clients = 160, 16
	createConcurrently(t, ns, n, clients)
	seen := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("b%d", i)
		ip := waitIPs(t, ns, name, 1)[0]
		if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s both got %s", other, name, ip)
		}
		seen[ip] = name
	}
	eventually(t, 10*time.Second, func() error {
		if p := getPool(t, "burst"); p.Status.InUse != fmt.Sprint(n) {
			return fmt.Errorf("pool in use = %q", p.Status.InUse)
		}
		var events int
		for _, w := range strings.Split(writes.String(), "\n") {
			if strings.HasPrefix(w, "POST") && strings.HasSuffix(w, "/events") {
				events++
			}
		}
		if events < n {
			return fmt.Errorf("%d events so far", events)
		}
		return nil
	})
	// Every Service has been reconciled at its current version, and the
	// manager has stopped: any write it was to make has landed.
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("b%d", i)
	}
	m.waitReconciled(t, ns, names...)
	m.stop()
	kinds := map[string]int{}
	for _, w := range strings.Split(writes.String(), "\n") {
		switch {
		case strings.Contains(w, "/services/") && strings.HasSuffix(w, "/status"):
			kinds["service status"]++
		case strings.Contains(w, "/services/"):
			kinds["service metadata"]++
		case strings.HasSuffix(w, "/events"), strings.Contains(w, "/events/"):
			kinds["events"]++
		case strings.Contains(w, "/ipaddresspools/") && strings.HasSuffix(w, "/status"):
			kinds["pool status"]++
		default:
			kinds["other "+w]++
		}
	}
	t.Logf("writes for %d services: %v", n, kinds)
	if kinds["service status"] != n || kinds["service metadata"] != 0 || kinds["events"] != n {
		t.Errorf("want exactly %d status and event writes and no metadata write; got %v", n, kinds)
	}
	for i := range n {
		if svc := getService(t, ns, fmt.Sprintf("b%d", i)); svc.Annotations[config.AnnotationAllocatedFromPool] != "burst" {
			t.Errorf("%s lacks the pool annotation: %v", svc.Name, svc.Annotations)
		}
	}
	if kinds["pool status"] > 12 {
		t.Errorf("%d pool status writes for a burst of %d, want them coalesced", kinds["pool status"], n)
	}
	cleanupAfterStop(t, ns, "burst")
}

// createConcurrently creates the Services b0 to b<n-1> in ns from clients
// at once, as a burst does.
func createConcurrently(t *testing.T, ns string, n, clients int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				if err := env.Client.Create(context.Background(), newService(ns, fmt.Sprintf("b%d", i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create service: %v", err)
	}
}
