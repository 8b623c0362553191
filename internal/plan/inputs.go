package plan

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/heraldlb/herald/internal/config"
)

// LabelExcludeFromLB marks nodes that must not carry load-balancer traffic.
// Its presence counts, whatever its value, as in Kubernetes itself.
const LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"

// TaintOutOfService marks a node that is shut down, so that its workloads
// may be moved off it: it announces nothing.
const TaintOutOfService = "node.kubernetes.io/out-of-service"

// GoneAfter is how long a node may be NotReady before it is treated as
// gone for announcements, even if its speaker still gossips: a node whose
// kubelet is dead may have lost its network in ways memberlist does not
// see. It matches the node lifecycle controller's grace period, so a node
// is gone about as soon as Kubernetes starts to evict its pods.
const GoneAfter = 40 * time.Second

// Inputs is one consistent snapshot of everything a plan depends on.
type Inputs struct {
	// Self is this speaker's node name.
	Self   string
	Config config.Announce
	// Services are the Services of Herald's class that have IPs.
	Services []Service
	Nodes    []Node
	// Members are the speakers alive in memberlist, with the links they
	// gossip (see Gossip).
	Members []Member
	// SelfLinks are this node's up, broadcast, non-loopback links. Gossip
	// derives what this node tells the others from them, and they name the
	// interfaces when the fallback to every link applies.
	SelfLinks []Link
	// Claim is the quorum verdict (election.Decide): without it this
	// speaker announces nothing over Layer 2.
	Claim bool
	// GracefulShutdown: this node is leaving (see Node.Leaving), and not
	// for longer than its graceful-shutdown period yet. It keeps
	// advertising its BGP routes with the GRACEFUL_SHUTDOWN community (RFC
	// 8326), so that routers move the traffic to other nodes before the
	// routes are withdrawn.
	GracefulShutdown bool
	// SelfAddrs are this node's addresses (its InternalIPs): the default
	// BGP router ID and next hops.
	SelfAddrs []netip.Addr
	// Passwords are the BGP passwords read from the Secrets that BGPPeers
	// name; Unreadable those Secrets the speaker may not read (yet), so
	// that the problem says why.
	Passwords  map[config.SecretRef]string
	Unreadable map[config.SecretRef]bool
}

// Service is what planning needs of a Service.
type Service struct {
	// Key is namespace/name.
	Key string
	// Labels are the Service's, which advertisements' serviceSelectors
	// match.
	Labels map[string]string
	IPs    []netip.Addr
	// Local: externalTrafficPolicy is Local.
	Local bool
	// Ready: at least one endpoint is ready.
	Ready bool
	// ReadyNodes are the nodes with a ready endpoint, sorted.
	ReadyNodes []string
}

// Node is what planning needs of a Node.
type Node struct {
	Name   string
	Labels map[string]string
	// Excluded: labelled LabelExcludeFromLB.
	Excluded bool
	// NetworkUnavailable: its NetworkUnavailable condition is True.
	NetworkUnavailable bool
	// OutOfService: tainted TaintOutOfService.
	OutOfService bool
	// Cordoned: spec.unschedulable, as kubectl cordon and drain set it.
	// A cordoned node announces only what no node that is not cordoned
	// can, so that cordoning every node leaves no IP unanswered.
	Cordoned bool
	// NotReady: its Ready condition is not True, since NotReadySince (the
	// condition's last transition). Gone is set by MarkGone.
	NotReady      bool
	NotReadySince time.Time
	Gone          bool
}

// Fit reports whether the node may announce at all: not excluded, with
// its network, in service and not gone.
func (n Node) Fit() bool {
	return !n.Excluded && !n.NetworkUnavailable && !n.OutOfService && !n.Gone
}

// Leaving reports whether the node is on its way out of announcing: not
// fit, or cordoned.
func (n Node) Leaving() bool { return !n.Fit() || n.Cordoned }

// Member is a live speaker and the links it gossips.
type Member struct {
	Name string
	// Settling: the speaker does not claim yet (it is starting, or has just
	// regained quorum), so it is no candidate: the others keep its IPs until
	// it says it is ready, and it claims only a hand-off delay after that.
	// Then two nodes never answer for an IP at once.
	Settling bool
	Links    []Link
	// AnyLink: the node has at least one up, broadcast, non-loopback link,
	// so that the fallback to every link gives it somewhere to answer.
	AnyLink bool
}

// Link is a network interface that can answer ARP or NDP.
type Link struct {
	Name     string
	Prefixes []netip.Prefix
}

// ServiceFrom reads a Service and its EndpointSlices. An endpoint whose
// ready condition is unset counts as ready, as the EndpointSlice API says.
func ServiceFrom(svc *corev1.Service, ips []netip.Addr, eps []*discoveryv1.EndpointSlice) Service {
	s := Service{
		Key:    svc.Namespace + "/" + svc.Name,
		Labels: svc.Labels,
		IPs:    ips,
		Local:  svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
	}
	for _, es := range eps {
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			s.Ready = true
			if ep.NodeName != nil && *ep.NodeName != "" {
				s.ReadyNodes = append(s.ReadyNodes, *ep.NodeName)
			}
		}
	}
	slices.Sort(s.ReadyNodes)
	s.ReadyNodes = slices.Compact(s.ReadyNodes)
	return s
}

// NodeFrom reads a Node. A Node without a Ready condition is taken as
// ready: the kubelet has not reported yet, and nothing says it is down.
func NodeFrom(n *corev1.Node) Node {
	out := Node{Name: n.Name, Labels: n.Labels, Cordoned: n.Spec.Unschedulable}
	_, out.Excluded = n.Labels[LabelExcludeFromLB]
	for _, c := range n.Status.Conditions {
		switch {
		case c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue:
			out.NetworkUnavailable = true
		case c.Type == corev1.NodeReady && c.Status != corev1.ConditionTrue:
			out.NotReady, out.NotReadySince = true, c.LastTransitionTime.Time
		}
	}
	for _, t := range n.Spec.Taints {
		if t.Key == TaintOutOfService {
			out.OutOfService = true
		}
	}
	return out
}

// MarkGone sets Gone on every node NotReady for longer than GoneAfter at
// now, and returns the next time a node that is NotReady becomes gone
// (zero if none will), when the caller should look again.
//
// seen holds since when the caller has watched each node NotReady; it is
// updated in place. A node the caller has watched become NotReady counts
// from then, on the caller's own clock, so that nodes whose clocks differ
// from the Node's writer by seconds still agree within the delay of their
// watches; a node NotReady before the caller first looked counts from its
// condition's transition, the best there is.
func MarkGone(nodes []Node, seen map[string]time.Time, now time.Time, firstLook bool) time.Time {
	var next time.Time
	for i := range nodes {
		n := &nodes[i]
		if !n.NotReady {
			delete(seen, n.Name)
			continue
		}
		since, ok := seen[n.Name]
		if !ok {
			since = now
			if firstLook && !n.NotReadySince.IsZero() && n.NotReadySince.Before(now) {
				since = n.NotReadySince
			}
			seen[n.Name] = since
		}
		at := since.Add(GoneAfter)
		n.Gone = !now.Before(at)
		if !n.Gone && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if len(seen) > 0 {
		present := make(map[string]bool, len(nodes))
		for _, n := range nodes {
			present[n.Name] = true
		}
		maps.DeleteFunc(seen, func(name string, _ time.Time) bool { return !present[name] })
	}
	return next
}
