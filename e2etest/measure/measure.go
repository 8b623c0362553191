// Package measure runs client-visible measurements on a lab: how long a
// client loses an IP when a node's link goes down, what it sees when a
// speaker hands over, how a partition ends. The end-to-end tests and the
// benchmarks share them, so that both judge the same thing.
package measure

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/internal/plan"
)

// LinkDown probes ip while node i's eth0 goes down, waits until next
// serves, brings the link back up, waits until node i answers again, and
// returns the outage.
func LinkDown(ctx context.Context, l *lab.Lab, ip netip.Addr, i int, next string) (time.Duration, error) {
	if err := Served(ctx, ip, l.Nodes[i-1].Name); err != nil {
		return 0, err
	}
	p, err := l.StartProber(ctx, lab.ClientNS, ip, 80, lab.ProberOptions{Duration: 30 * time.Second})
	if err != nil {
		return 0, err
	}
	time.Sleep(300 * time.Millisecond) // a baseline of good probes
	if err := l.SetLink(ctx, i, lab.ClientIface, false); err != nil {
		p.Stop()
		return 0, err
	}
	served := Poll(ctx, 10*time.Second, func() bool {
		r := lab.Probe(ctx, lab.ClientNS, ip, 80)
		return r.Err == nil && r.Node == next
	})
	time.Sleep(300 * time.Millisecond) // good probes after the outage
	seen, perr := p.Stop()
	if err := l.SetLink(ctx, i, lab.ClientIface, true); err != nil {
		return 0, err
	}
	if !served {
		return 0, fmt.Errorf("%s did not take %s over within 10s", next, ip)
	}
	if perr != nil {
		return 0, perr
	}
	outage, recovered := seen.Outage()
	if !recovered {
		return outage, fmt.Errorf("the client never recovered (outage %v so far)", outage)
	}
	// Back to the original owner before the next step.
	if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, l.Nodes[i-1].Name, 15*time.Second); err != nil {
		return outage, fmt.Errorf("after the link came back: %w", err)
	}
	return outage, nil
}

// HandoverResult is what a client saw of a graceful handover: its failed
// probes; when the first gratuitous announcement naming the new owner
// arrived after the signal (the leaving node sends those at once); and when
// the first one sent by the new owner itself did.
type HandoverResult struct {
	Failed, Probes int
	// Failures describe the failed probes (lab.ProbeLog.Failures).
	Failures []string
	// Straddled counts the failed probes whose connection was in flight
	// when the client switched to the new owner's MAC, and which the new
	// owner's node reset: it had no socket for a connection begun on the
	// old one. No announcing can avoid that; only a datapath that hands
	// connections over could.
	Straddled         int
	FirstGratuitous   time.Duration
	FirstFromNewOwner time.Duration
}

// Handover sends SIGTERM to node i's speaker while the client
// probes and captures, waits until next answers, restarts the speaker and
// waits until node i answers again.
func Handover(ctx context.Context, l *lab.Lab, ip netip.Addr, i int, next string) (HandoverResult, error) {
	return handOff(ctx, l, ip, i, next, "the signal",
		func() error { return l.SignalSpeaker(i, syscall.SIGTERM) },
		func() error { l.StopSpeaker(i, 5*time.Second); return l.StartSpeaker(i) })
}

// A Leave is a way a node stops carrying load-balancer traffic while its
// speaker runs on, and the way back.
type Leave struct {
	Name        string
	Apply, Undo func(*corev1.Node)
}

// Leaves are cordon (and so drain, which cordons first), the out-of-service
// taint, and the exclude-from-external-load-balancers label.
var Leaves = []Leave{
	{"cordon", func(n *corev1.Node) { n.Spec.Unschedulable = true }, func(n *corev1.Node) { n.Spec.Unschedulable = false }},
	{"out-of-service taint",
		func(n *corev1.Node) {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: plan.TaintOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
		},
		func(n *corev1.Node) {
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == plan.TaintOutOfService })
		}},
	{"exclude label",
		func(n *corev1.Node) {
			if n.Labels == nil {
				n.Labels = map[string]string{}
			}
			n.Labels[plan.LabelExcludeFromLB] = ""
		},
		func(n *corev1.Node) { delete(n.Labels, plan.LabelExcludeFromLB) }},
}

// LeaveNode applies how to node i while the client probes and captures,
// waits until next answers, undoes it and waits until node i answers
// again.
func LeaveNode(ctx context.Context, l *lab.Lab, ip netip.Addr, i int, next string, how Leave) (HandoverResult, error) {
	name := l.Nodes[i-1].Name
	return handOff(ctx, l, ip, i, next, "the "+how.Name,
		func() error { return l.EditNode(ctx, name, how.Apply) },
		func() error { return l.EditNode(ctx, name, how.Undo) })
}

// handOff is Handover and LeaveNode: leave is what makes node i give ip up
// to next, back what restores it.
func handOff(ctx context.Context, l *lab.Lab, ip netip.Addr, i int, next, what string, leave, back func() error) (HandoverResult, error) {
	if err := Served(ctx, ip, l.Nodes[i-1].Name); err != nil {
		return HandoverResult{}, err
	}
	p, err := l.StartProber(ctx, lab.ClientNS, ip, 80, lab.ProberOptions{Watch: true, Duration: 30 * time.Second})
	if err != nil {
		return HandoverResult{}, err
	}
	time.Sleep(300 * time.Millisecond)
	left := time.Now()
	if err := leave(); err != nil {
		p.Stop()
		return HandoverResult{}, err
	}
	_, aerr := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, next, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	seen, perr := p.Stop()
	if err := back(); err != nil {
		return HandoverResult{}, err
	}
	if err := cmp.Or(aerr, perr); err != nil {
		return HandoverResult{}, err
	}
	r := HandoverResult{Failed: seen.Failed(), Probes: len(seen.Probes), Failures: seen.Failures(left)}
	mac := lab.NodeMAC(l.NodeIndex(next)).String()
	first, ok := seen.FirstUnsolicited(left, mac, "")
	own, ownOK := seen.FirstUnsolicited(left, mac, mac)
	if !ok || !ownOK {
		return r, fmt.Errorf("no gratuitous announcement naming %s (%s), or none from it, after %s; saw %+v", next, mac, what, seen.Announcements)
	}
	r.FirstGratuitous, r.FirstFromNewOwner = first.At.Sub(left), own.At.Sub(left)
	r.Straddled = seen.Straddled(first.At)
	if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, l.Nodes[i-1].Name, 20*time.Second); err != nil {
		return r, fmt.Errorf("after undoing %s: %w", what, err)
	}
	return r, nil
}

// Partition isolates node i, checks that no two nodes answer at
// once while it lasts and that next answers, heals, and returns how long
// after the heal until node i, the winner again, answers alone for good
// (checking that no two nodes ever answer at once meanwhile).
func Partition(ctx context.Context, l *lab.Lab, ip netip.Addr, i int, next string) (time.Duration, error) {
	if err := Served(ctx, ip, l.Nodes[i-1].Name); err != nil {
		return 0, err
	}
	cut := time.Now()
	if err := l.Partition(ctx, i); err != nil {
		return 0, err
	}
	samples, err := l.SampleAnswers(ctx, lab.ClientNS, ip, 3*time.Second, 150*time.Millisecond)
	if err != nil {
		return 0, err
	}
	// The cut-off node stops claiming (its probes fail) before the others
	// take its IPs over: never two at once.
	for _, s := range samples {
		if len(s.Nodes) > 1 {
			_ = l.Heal(ctx)
			return 0, fmt.Errorf("%v into the partition, %s is answered by %v", s.At.Sub(cut), ip, s.Nodes)
		}
	}
	_, err = l.WaitAnsweredBy(ctx, lab.ClientNS, ip, next, 10*time.Second)
	if herr := l.Heal(ctx); err != nil || herr != nil {
		return 0, fmt.Errorf("during the partition: %v; heal: %v", err, herr)
	}
	healed := time.Now()
	owner := l.Nodes[i-1].Name
	samples, err = l.SampleAnswers(ctx, lab.ClientNS, ip, 4*time.Second, 150*time.Millisecond)
	if err != nil {
		return 0, err
	}
	// Never two at once; then the owner alone, to the end.
	settled := -1
	for k, s := range samples {
		if len(s.Nodes) > 1 {
			return 0, fmt.Errorf("%v after the heal, %s is answered by %v", s.At.Sub(healed), ip, s.Nodes)
		}
		switch {
		case len(s.Nodes) == 1 && s.Nodes[0] == owner && settled < 0:
			settled = k
		case len(s.Nodes) != 1 || s.Nodes[0] != owner:
			settled = -1
		}
	}
	if settled < 0 || samples[len(samples)-1].At.Sub(samples[settled].At) < time.Second {
		return 0, fmt.Errorf("%s did not settle on %s alone within 3s of the heal: %v", ip, owner, samples)
	}
	return samples[settled].At.Sub(healed), nil
}

// Served waits until curl from the LAN client is served by node, so that a
// measurement starts from a client that reaches the IP: an IP that an
// earlier Service used may still be stale in the client's cache.
func Served(ctx context.Context, ip netip.Addr, node string) error {
	if !Poll(ctx, 10*time.Second, func() bool {
		r := lab.Probe(ctx, lab.ClientNS, ip, 80)
		return r.Err == nil && r.Node == node
	}) {
		return fmt.Errorf("the client is not served by %s at %s", node, ip)
	}
	return nil
}

// Poll polls cond every 50 ms until it holds or timeout passes.
func Poll(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return cond(), nil
	}) == nil
}

// BGPSigterm stops node i's speaker with SIGTERM, returns how long
// until the router's kernel route to ip no longer goes through node i,
// then restarts the speaker and waits until the route is back.
func BGPSigterm(ctx context.Context, l *lab.Lab, ip netip.Addr, i int) (time.Duration, error) {
	n := l.Nodes
	var rest []lab.Node
	for k := range n {
		if k != i-1 {
			rest = append(rest, n[k])
		}
	}
	signalled := time.Now()
	if err := l.SignalSpeaker(i, syscall.SIGTERM); err != nil {
		return 0, err
	}
	_, err := lab.WaitKernelNextHops(ctx, ip, Hops(ip, rest...), 10*time.Second)
	took := time.Since(signalled)
	l.StopSpeaker(i, 5*time.Second)
	if serr := l.StartSpeaker(i); serr != nil {
		return took, serr
	}
	if err != nil {
		return took, err
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, Hops(ip, n...), 30*time.Second); err != nil {
		return took, fmt.Errorf("after the speaker restarted: %w", err)
	}
	return took, nil
}

// hops returns the nodes' addresses of ip's family.
func Hops(ip netip.Addr, nodes ...lab.Node) []netip.Addr {
	var out []netip.Addr
	for _, n := range nodes {
		if ip.Is4() {
			out = append(out, n.IPv4)
		} else {
			out = append(out, n.IPv6)
		}
	}
	return out
}
