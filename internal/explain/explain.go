package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/announcement"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/plan"
	"github.com/heraldlb/herald/internal/status"
)

// Inputs is what Why reads: the Service, its EndpointSlices and Events, the
// configuration, the Nodes, the speakers' HeraldNodes, Herald's class policy,
// and the time now (for how long a node has been NotReady).
type Inputs struct {
	Service   corev1.Service
	Endpoints []*discoveryv1.EndpointSlice
	Events    []corev1.Event
	Config    config.Objects
	Nodes     []corev1.Node
	Speakers  []v1beta1.HeraldNode
	// NamespaceLabels are the labels of the Service's namespace, which
	// pools' namespaceSelectors match.
	NamespaceLabels map[string]string
	// Handled: Herald's class policy takes the Service; Class and
	// DefaultClass describe that policy; Namespace is Herald's.
	Handled      bool
	Class        string
	DefaultClass bool
	Namespace    string
	Now          time.Time
}

// Why explains the Service, one sentence per line.
func Why(in Inputs) []string {
	svc := &in.Service
	key := svc.Namespace + "/" + svc.Name
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return []string{fmt.Sprintf("Service %s is of type %s, not LoadBalancer: Herald gives IPs only to LoadBalancer Services.", key, svc.Spec.Type)}
	}
	if !in.Handled {
		return []string{fmt.Sprintf("Service %s has loadBalancerClass %q; Herald handles %q%s, so another implementation serves it.",
			key, deref(svc.Spec.LoadBalancerClass), in.Class, map[bool]string{true: " and Services without a class"}[in.DefaultClass])}
	}
	var ips []netip.Addr
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(ing.IP); err == nil {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		out := []string{fmt.Sprintf("Service %s has no IP yet.", key)}
		for _, e := range warnings(in.Events) {
			out = append(out, fmt.Sprintf("The controller says (%s): %s", e.Reason, e.Message))
		}
		if len(out) == 1 {
			out = append(out, "No Warning Event explains it: check that the controller runs (kubectl get pods -n "+in.Namespace+").")
		}
		return append(out, poolVerdicts(in)...)
	}
	w := newWorld(in)
	w.namespace = in.Namespace
	said := status.LatestMessages(in.Events, "NotAnnounced")
	out := []string{fmt.Sprintf("Service %s has %s.", key, joinIPs(ips))}
	if len(in.Speakers) == 0 {
		out = append(out, "No HeraldNode exists: no speaker runs, or none can write its status (kubectl get pods -n "+in.Namespace+").")
	}
	for _, ip := range ips {
		out = append(out, w.explainIP(ip, plan.ServiceFrom(svc, ips, in.Endpoints))...)
		if m, ok := said[key+" "+ip.String()]; ok {
			out = append(out, "The speakers' last word on it (NotAnnounced): "+m)
		}
	}
	return out
}

// world is what every IP's explanation shares.
type world struct {
	cfg       config.Announce
	nodes     []plan.Node
	alive     map[string]bool
	quorum    bool
	speakers  []v1beta1.HeraldNode
	namespace string
}

func newWorld(in Inputs) world {
	w := world{cfg: config.Announcements(in.Config), alive: map[string]bool{}}
	for i := range in.Nodes {
		w.nodes = append(w.nodes, plan.NodeFrom(&in.Nodes[i]))
	}
	plan.MarkGone(w.nodes, map[string]time.Time{}, in.Now, true)
	w.speakers = in.Speakers
	w.alive, w.quorum = announcement.Alive(in.Speakers)
	return w
}

func (w world) explainIP(ip netip.Addr, svc plan.Service) []string {
	pool, ok := w.cfg.PoolOf(ip)
	if !ok {
		return []string{fmt.Sprintf("%s is in no IPAddressPool in force (deleted, or not Ready): no node announces it.", ip)}
	}
	out := []string{fmt.Sprintf("%s is from IPAddressPool %s.", ip, pool.Name)}
	if !svc.Ready {
		return append(out, fmt.Sprintf("No endpoint of the Service is ready, so no node announces %s until one is.", ip))
	}
	if svc.Local {
		out = append(out, fmt.Sprintf("externalTrafficPolicy is Local: only nodes with a ready endpoint may announce it (%s).", list(svc.ReadyNodes)))
	}
	l2, bgp := w.layer2(ip, pool.Name, svc), w.bgp(ip, pool.Name, svc)
	if l2 == nil && bgp == nil {
		return append(out, fmt.Sprintf("No L2Advertisement or BGPAdvertisement selects pool %s: nobody announces %s.", pool.Name, ip))
	}
	return append(append(out, l2...), bgp...)
}

// layer2 explains the Layer 2 side of ip, nil when no L2Advertisement
// selects its pool.
func (w world) layer2(ip netip.Addr, pool string, svc plan.Service) []string {
	var advs []config.L2Advertisement
	for _, a := range w.cfg.L2 {
		if a.Selects(pool) {
			advs = append(advs, a)
		}
	}
	if len(advs) == 0 {
		return nil
	}
	names := make([]string, len(advs))
	for i, a := range advs {
		names[i] = a.Name
	}
	advs = slices.DeleteFunc(advs, func(a config.L2Advertisement) bool { return !a.SelectsService(svc.Labels) })
	if len(advs) == 0 {
		return []string{unselected("Layer 2: L2Advertisement", names, pool, ip)}
	}
	names = names[:0]
	for _, a := range advs {
		names = append(names, a.Name)
	}
	out := []string{fmt.Sprintf("Layer 2: L2Advertisement %s selects pool %s.", strings.Join(names, ", "), pool)}
	var eligible, cordoned []string
	var winner string
	for _, n := range w.nodes {
		why := w.nodeVerdict(n, advs, svc)
		switch {
		case why == "" && n.Cordoned:
			cordoned = append(cordoned, n.Name)
			out = append(out, fmt.Sprintf("  node %s: cordoned, so a candidate only if every other is cordoned too.", n.Name))
		case why == "":
			eligible = append(eligible, n.Name)
			out = append(out, fmt.Sprintf("  node %s: eligible.", n.Name))
		default:
			out = append(out, fmt.Sprintf("  node %s: not a candidate: %s.", n.Name, why))
		}
	}
	if len(eligible) == 0 {
		eligible = cordoned
	}
	switch {
	case len(w.speakers) == 0:
		// Why has said that no HeraldNode exists: no speaker runs.
	case !w.quorum:
		out = append(out, "No speaker's HeraldNode says it has quorum, so no node answers over Layer 2 (kubectl get heraldnodes).")
		for _, n := range w.speakers {
			out = append(out, fmt.Sprintf("  HeraldNode %s: %s.", n.Name, n.Status.Quorum.Reason))
		}
	case len(eligible) == 0:
		out = append(out, fmt.Sprintf("No node may answer for %s over Layer 2.", ip))
	default:
		rank := election.Rank(ip, eligible)
		out = append(out, fmt.Sprintf("The election ranks the candidates for %s as %s: %s answers; %s takes over if it goes.", ip, strings.Join(rank, ", "), rank[0], next(rank)))
		winner = rank[0]
	}
	return append(out, w.answering(ip, winner)...)
}

// nodeVerdict says why node n may not announce for advs and svc ("" when
// it may, cordoned or not).
func (w world) nodeVerdict(n plan.Node, advs []config.L2Advertisement, svc plan.Service) string {
	switch {
	case !slices.ContainsFunc(advs, func(a config.L2Advertisement) bool { return a.SelectsNode(n.Labels) }):
		return "no nodeSelector of those L2Advertisements matches its labels"
	case n.Excluded:
		return "labelled " + plan.LabelExcludeFromLB
	case n.OutOfService:
		return "tainted " + plan.TaintOutOfService
	case n.Gone:
		return fmt.Sprintf("NotReady for more than %s", plan.GoneAfter)
	case n.NetworkUnavailable:
		return "its NetworkUnavailable condition is True"
	case svc.Local && !slices.Contains(svc.ReadyNodes, n.Name):
		return "no ready endpoint of the Service on it (externalTrafficPolicy Local)"
	case !slices.ContainsFunc(w.speakers, func(s v1beta1.HeraldNode) bool { return s.Name == n.Name }):
		return "no HeraldNode, so its speaker is not running or has never reported"
	case !w.alive[n.Name]:
		return "its speaker is not alive on the majority side (not in the members of a speaker that claims)"
	}
	return ""
}

// answering says which HeraldNodes list ip over Layer 2, and whether that
// disagrees with the election's winner ("" when none may answer).
func (w world) answering(ip netip.Addr, winner string) []string {
	var out, who []string
	for _, n := range w.speakers {
		for _, e := range n.Status.Layer2 {
			if e.IP == ip.String() {
				who = append(who, n.Name)
				out = append(out, fmt.Sprintf("HeraldNode %s says it answers for %s on %s.", n.Name, ip, strings.Join(e.Interfaces, ", ")))
			}
		}
	}
	switch {
	case len(who) == 0:
		out = append(out, fmt.Sprintf("No HeraldNode says it answers for %s over Layer 2 (yet).", ip))
	case len(who) > 1:
		out = append(out, fmt.Sprintf("%d HeraldNodes say they answer for %s (%s): only one should; during a failover this lasts seconds, else their views of the live speakers differ (kubectl get heraldnodes).",
			len(who), ip, strings.Join(who, ", ")))
	case winner != "" && who[0] != winner:
		out = append(out, fmt.Sprintf("The election gives %s to %s, but HeraldNode %s says it answers: it is catching up, its view of the live speakers differs, or its HeraldNode is stale (kubectl get heraldnodes).",
			ip, winner, who[0]))
	}
	return out
}

// warnings are the Warning Events, latest first, at most three.
func warnings(events []corev1.Event) []corev1.Event {
	var out []corev1.Event
	for _, e := range events {
		if e.Type == corev1.EventTypeWarning {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Event) int { return b.LastTimestamp.Compare(a.LastTimestamp.Time) })
	return out[:min(3, len(out))]
}

func next(rank []string) string {
	if len(rank) < 2 {
		return "nobody"
	}
	return rank[1]
}

func list(nodes []string) string {
	if len(nodes) == 0 {
		return "none"
	}
	return strings.Join(nodes, ", ")
}

func joinIPs(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	if len(s) == 1 {
		return "IP " + s[0]
	}
	return "IPs " + strings.Join(s, ", ")
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// unselected says that the advertisements of a pool all leave the Service
// out by their serviceSelectors.
func unselected(what string, names []string, pool string, ip netip.Addr) string {
	return fmt.Sprintf("%s %s selects pool %s, but none selects the Service by its labels (serviceSelectors): %s is not announced this way.", what, strings.Join(names, ", "), pool, ip)
}
