package speaker

import (
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/heraldlb/herald/internal/plan"
)

// causes are the changes the loop has been woken for and not planned yet,
// with when the speaker saw them (on its own clock): the latest change of
// each Service, and the earliest change of anything else. The informer
// handlers write them and sync takes them, hence the mutex. They give
// herald_speaker_announce_latency_seconds and
// herald_speaker_takeover_seconds their start.
type causes struct {
	mu       sync.Mutex
	services map[string]time.Time
	other    time.Time
}

// saw records a change of obj seen at at.
func (c *causes) saw(obj any, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch o := obj.(type) {
	case *corev1.Service:
		c.sawServiceLocked(o.Namespace+"/"+o.Name, at)
		return
	case *discoveryv1.EndpointSlice:
		// Its Service is announced only once an endpoint is ready, often
		// a plan after the Service's own change: that plan must still
		// know what the Service is waiting for.
		if name := o.Labels[discoveryv1.LabelServiceName]; name != "" {
			c.sawServiceLocked(o.Namespace+"/"+name, at)
		}
	}
	c.sawOtherLocked(at)
}

func (c *causes) sawServiceLocked(key string, at time.Time) {
	if c.services == nil {
		c.services = map[string]time.Time{}
	}
	c.services[key] = at
}

// sawOther records a change that is not a Service's: membership, a Node,
// a Lease, an EndpointSlice, the configuration.
func (c *causes) sawOther(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sawOtherLocked(at)
}

func (c *causes) sawOtherLocked(at time.Time) {
	if c.other.IsZero() || at.Before(c.other) {
		c.other = at
	}
}

// take returns the changes recorded and forgets them: a plan made after
// this call sees all of them.
func (c *causes) take() (services map[string]time.Time, other time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	services, other = c.services, c.other
	c.services, c.other = nil, time.Time{}
	return services, other
}

// takenOver lists the IPs this node announces in mine that prev gave to
// another node: what a failover or a handover moved here.
func takenOver(prev []plan.L2, mine []plan.L2, self string) []netip.Addr {
	owner := map[netip.Addr]string{}
	for _, e := range prev {
		owner[e.IP] = e.Winner
	}
	var out []netip.Addr
	for _, e := range mine {
		if w := owner[e.IP]; w != "" && w != self {
			out = append(out, e.IP)
		}
	}
	return out
}

// announceLatencies returns, for each series added whose Service changed
// at a time in changed, its protocol and how long ago that was at at.
func announceLatencies(added [][4]string, changed map[string]time.Time, at time.Time) map[string][]time.Duration {
	out := map[string][]time.Duration{}
	for _, lv := range added {
		if t, ok := changed[lv[0]]; ok {
			out[lv[1]] = append(out[lv[1]], at.Sub(t))
		}
	}
	return out
}
