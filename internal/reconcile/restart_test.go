package reconcile

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestRestartKeepsIPsAndIsSilent stops the controller, starts a new one on
// the same apiserver, and checks that every IP stays put and that the new
// controller writes nothing at all: once it has reconciled every Service
// and pool (the positive signal), and once it has stopped (so that nothing
// it held back, such as Events, is still to come).
func TestRestartKeepsIPsAndIsSilent(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	first := startManager(t, nil)
	createPool(t, "restart", ns, []string{"198.51.100.144/28", "2001:db8:2::/120"})
	const n = 12
	for i := range n {
		var opts []svcOpt
		switch {
		case i%4 == 1:
			opts = append(opts, dualStack)
		case i%4 == 2:
			opts = append(opts, withAnnotation(config.AnnotationAllowSharedIP, "k"), withPorts(int32(1000+i)))
		}
		createService(t, ns, fmt.Sprintf("s%d", i), opts...)
	}
	before := map[string][]string{}
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		want := 1
		if i%4 == 1 {
			want = 2
		}
		before[name] = waitIPs(t, ns, name, want)
	}
	eventually(t, 15*time.Second, func() error {
		p := getPool(t, "restart")
		// 12 Services: 3 share one IPv4 address, 3 are dual-stack.
		if p.Status.AssignedIPv4 != "10" || p.Status.AssignedIPv6 != "3" || p.Status.InUse != "13" || p.Status.ObservedGeneration != p.Generation || condition(p, ConditionReady) == nil {
			return fmt.Errorf("pool status not settled: %+v", p.Status)
		}
		for name := range before {
			if getService(t, ns, name).Annotations[config.AnnotationAllocatedFromPool] != "restart" {
				return fmt.Errorf("service %s not annotated yet", name)
			}
		}
		// ServiceAnnouncements wait for allocations to pause: the first
		// controller has written them too.
		return countAnnouncements(ns, n)
	})
	first.stop()

	var writes writeCounter
	second := startManager(t, &writes)
	second.waitCaughtUp(t)
	names := make([]string, 0, len(before))
	for name := range before {
		names = append(names, name)
	}
	second.waitReconciled(t, ns, names...)
	second.waitAnnouncementsLooked(t, len(names))
	second.stop()
	if got := writes.n.Load(); got != 0 {
		t.Errorf("restarted controller made %d writes, want 0:\n%s", got, writes.String())
	}
	cleanupAfterStop(t, ns, "restart")
	for name, ips := range before {
		after := waitIPs(t, ns, name, len(ips))
		if fmt.Sprint(after) != fmt.Sprint(ips) {
			t.Errorf("service %s: IPs %v → %v across a restart", name, ips, after)
		}
	}
	// The barrier loaded every assignment: a new Service gets a fresh IP.
	createService(t, ns, "new")
	ip := waitIPs(t, ns, "new", 1)[0]
	for name, ips := range before {
		for _, old := range ips {
			if old == ip {
				t.Errorf("new service got %s, which %s holds", ip, name)
			}
		}
	}
}
