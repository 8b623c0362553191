package plan

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/heraldlb/herald/internal/config"
)

// LabelExcludeFromLB marks nodes that must not carry load-balancer traffic.
// Its presence counts, whatever its value, as in Kubernetes itself.
const LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"

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
	IPs []netip.Addr
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
}

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
		Key:   svc.Namespace + "/" + svc.Name,
		IPs:   ips,
		Local: svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
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

// NodeFrom reads a Node.
func NodeFrom(n *corev1.Node) Node {
	out := Node{Name: n.Name, Labels: n.Labels}
	_, out.Excluded = n.Labels[LabelExcludeFromLB]
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeNetworkUnavailable && c.Status == corev1.ConditionTrue {
			out.NetworkUnavailable = true
		}
	}
	return out
}
