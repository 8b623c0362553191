package reconcile

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/testenv"
)

// pauser freezes a replica's traffic to the apiserver the way SIGSTOP would:
// while paused, every request it sends waits, deaf to its context, and the
// replica's own timers cannot step it down because its Lease renewal is one
// of the waiting requests. On resume the writes go out first and the Lease
// requests a second later: the order that gives a stale leader its best
// chance to write.
type pauser struct {
	mu            sync.Mutex
	paused        bool
	writes, lease chan struct{}
	heldWrites    int
}

func (p *pauser) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if gate := p.gate(req); gate != nil {
			<-gate
		}
		return rt.RoundTrip(req)
	})
}

func (p *pauser) gate(req *http.Request) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.paused:
		return nil
	case strings.Contains(req.URL.Path, "/leases/"):
		return p.lease
	case req.Method == http.MethodPatch && strings.HasSuffix(req.URL.Path, "/status"):
		p.heldWrites++
	}
	return p.writes
}

func (p *pauser) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused, p.writes, p.lease = true, make(chan struct{}), make(chan struct{})
}

func (p *pauser) resume() {
	p.mu.Lock()
	p.paused = false
	writes, lease := p.writes, p.lease
	p.mu.Unlock()
	close(writes)
	time.Sleep(time.Second)
	close(lease)
}

func (p *pauser) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heldWrites
}

func leaderAs(ns, identity string) func(*Options) {
	return func(o *Options) {
		o.Leader = LeaderElection{Enabled: true, Namespace: ns, Name: "herald-controller", Identity: identity}
	}
}

func leads(m *manager) bool { return testutil.ToFloat64(m.metrics.Leader) == 1 }

// waitLeads waits until m leads.
func waitLeads(t *testing.T, m *manager) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		if !leads(m) {
			return fmt.Errorf("the replica does not lead yet")
		}
		return nil
	})
}

// A leader that freezes with a write computed, and resumes after another
// replica took over, must not land that write: it would put back what the
// new leader has since changed.
func TestAPausedLeaderThatResumesDoesNotWrite(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	var frozen pauser
	a := startManager(t, &frozen, leaderAs(ns, "a"))
	waitLeads(t, a)
	b := startManager(t, nil, leaderAs(ns, "b"))
	cleanup(t, ns, "split")
	createPool(t, "split", ns, []string{"198.51.100.8/30"})
	a.waitCaughtUp(t)

	// a freezes; a Service arrives, and a computes its write before the
	// freeze bites it.
	frozen.pause()
	createService(t, ns, "web", withAnnotation(config.AnnotationLoadBalancerIPs, "198.51.100.9"))
	eventually(t, 10*time.Second, func() error {
		if frozen.held() == 0 {
			return fmt.Errorf("replica a holds no status write yet")
		}
		return nil
	})
	// b takes over, serves the Service, and then the user moves it.
	if ips := waitIPs(t, ns, "web", 1); ips[0] != "198.51.100.9" {
		t.Fatalf("b assigned %v, want the requested 198.51.100.9", ips)
	}
	if !leads(b) {
		t.Fatal("the Service got its IP, but not from b")
	}
	eventually(t, 10*time.Second, func() error {
		svc := getService(t, ns, "web")
		svc.Annotations[config.AnnotationLoadBalancerIPs] = "198.51.100.10"
		return env.Client.Update(t.Context(), svc)
	})
	eventually(t, 10*time.Second, func() error {
		if ips := waitIPs(t, ns, "web", 1); ips[0] != "198.51.100.10" {
			return fmt.Errorf("IP %v, want 198.51.100.10", ips)
		}
		return nil
	})
	b.waitReconciled(t, ns, "web")
	settled := getService(t, ns, "web").ResourceVersion

	frozen.resume()
	eventually(t, 20*time.Second, func() error {
		if leads(a) {
			return fmt.Errorf("replica a still believes it leads")
		}
		return nil
	})
	if n := testutil.ToFloat64(a.metrics.FencedWrites); n == 0 {
		t.Errorf("replica a fenced no write: the test did not catch it with one computed")
	}
	b.waitReconciled(t, ns, "web")
	svc := getService(t, ns, "web")
	if svc.ResourceVersion != settled {
		t.Errorf("the Service was written after a resumed (resourceVersion %s → %s); ingress now %v",
			settled, svc.ResourceVersion, svc.Status.LoadBalancer.Ingress)
	}
	if ing := svc.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "198.51.100.10" {
		t.Errorf("ingress %v, want the new leader's 198.51.100.10", ing)
	}
}
