package status

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Summary is the cluster as `heraldctl status` shows it.
type Summary struct {
	Pools       []Pool        `json:"pools"`
	Speakers    []Speaker     `json:"speakers"`
	Peers       []Peer        `json:"bgpPeers"`
	Unannounced []Unannounced `json:"unannounced"`
}

// Pool is one IPAddressPool and its use.
type Pool struct {
	Name string `json:"name"`
	// InUse and Available are the pool's counts as its status writes
	// them: an IPv6 pool's may exceed any integer type.
	InUse     string `json:"inUse"`
	Available string `json:"available"`
	// Ready is the pool's Ready condition ("" when it has none yet), and
	// Reason its reason when not True.
	Ready  string `json:"ready"`
	Reason string `json:"reason,omitempty"`
}

// Speaker is one node's speaker, as its record says.
type Speaker struct {
	Node string `json:"node"`
	// Claims: it has quorum and announces; Quorum is its own sentence.
	Claims  bool   `json:"claims"`
	Quorum  string `json:"quorum"`
	Members int    `json:"members"`
	// Ready is its Ready condition ("" when it has none yet).
	Ready string `json:"ready"`
	// Layer2 counts the IPs it answers for, Routes the BGP routes it
	// advertises.
	Layer2 int `json:"layer2"`
	Routes int `json:"routes"`
}

// Peer is one BGP session of one node.
type Peer struct {
	Node     string `json:"node"`
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"`
	State    string `json:"state"`
	Prefixes int    `json:"prefixes"`
	Error    string `json:"error,omitempty"`
}

// Up reports whether the session is established.
func (p Peer) Up() bool { return strings.EqualFold(p.State, "established") }

// Unannounced is a Service IP that no record lists, over Layer 2 or BGP,
// and why, as the speakers' last NotAnnounced Event on the Service says.
type Unannounced struct {
	Service string `json:"service"`
	IP      string `json:"ip"`
	Why     string `json:"why,omitempty"`
}

// Summarize sums up the pools, the speakers' HeraldNodes and the Services
// that have IPs; why holds, by "namespace/name", the message of each Service's
// latest NotAnnounced Event (see LatestMessages).
func Summarize(pools []v1beta1.IPAddressPool, nodes []v1beta1.HeraldNode, services []corev1.Service, why map[string]string) Summary {
	s := Summary{Pools: []Pool{}, Speakers: []Speaker{}, Peers: []Peer{}, Unannounced: []Unannounced{}}
	for _, p := range pools {
		s.Pools = append(s.Pools, poolOf(p))
	}
	l2 := map[netip.Addr]bool{}
	var routes []netip.Prefix
	for _, n := range nodes {
		sp, ips, prefixes := speakerOf(n)
		s.Speakers = append(s.Speakers, sp)
		s.Peers = append(s.Peers, peersOf(n)...)
		for _, ip := range ips {
			l2[ip] = true
		}
		routes = append(routes, prefixes...)
	}
	for _, svc := range services {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ip, err := netip.ParseAddr(in.IP)
			if err != nil || l2[ip] || slices.ContainsFunc(routes, func(p netip.Prefix) bool { return p.Contains(ip) }) {
				continue
			}
			key := svc.Namespace + "/" + svc.Name
			w, ok := why[key+" "+ip.String()]
			if !ok {
				w = why[key]
			}
			s.Unannounced = append(s.Unannounced, Unannounced{Service: key, IP: ip.String(), Why: w})
		}
	}
	slices.SortFunc(s.Pools, func(a, b Pool) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(s.Speakers, func(a, b Speaker) int { return strings.Compare(a.Node, b.Node) })
	slices.SortStableFunc(s.Peers, func(a, b Peer) int { return strings.Compare(a.Node+" "+a.Name, b.Node+" "+b.Name) })
	slices.SortFunc(s.Unannounced, func(a, b Unannounced) int { return strings.Compare(a.Service+" "+a.IP, b.Service+" "+b.IP) })
	return s
}

func poolOf(p v1beta1.IPAddressPool) Pool {
	out := Pool{Name: p.Name, InUse: p.Status.InUse, Available: p.Status.Available}
	if c := meta.FindStatusCondition(p.Status.Conditions, "Ready"); c != nil {
		out.Ready = string(c.Status)
		if c.Status != "True" {
			out.Reason = c.Reason
		}
	}
	return out
}

// speakerOf reads a HeraldNode: its quorum, members, the IPs it answers
// for and the distinct prefixes it sends.
func speakerOf(n v1beta1.HeraldNode) (Speaker, []netip.Addr, []netip.Prefix) {
	st := n.Status
	sp := Speaker{Node: n.Name, Quorum: st.Quorum.Reason, Claims: st.Quorum.Claims, Members: len(st.Members)}
	if c := meta.FindStatusCondition(st.Conditions, v1beta1.NodeReady); c != nil {
		sp.Ready = string(c.Status)
	}
	var ips []netip.Addr
	for _, e := range st.Layer2 {
		if ip, err := netip.ParseAddr(e.IP); err == nil {
			ips = append(ips, ip)
		}
	}
	var prefixes []netip.Prefix
	seen := map[netip.Prefix]bool{}
	for _, p := range st.BGPPeers {
		for _, x := range p.Prefixes {
			if pf, err := netip.ParsePrefix(x); err == nil && !seen[pf] {
				seen[pf] = true
				prefixes = append(prefixes, pf)
			}
		}
	}
	sp.Layer2, sp.Routes = len(ips), max(len(prefixes), int(st.BGPRoutes))
	return sp, ips, prefixes
}

// peersOf lists a HeraldNode's BGP sessions.
func peersOf(n v1beta1.HeraldNode) []Peer {
	var out []Peer
	for _, p := range n.Status.BGPPeers {
		out = append(out, Peer{Node: n.Name, Name: p.Name, Address: p.PeerAddress, State: p.State,
			Prefixes: int(p.PrefixesSent), Error: p.LastError})
	}
	return out
}

// LatestMessages returns, by "namespace/name" of the object, the message
// of the latest of events with the given reason; a message that begins
// with an IP address is kept by "namespace/name ip", as the speakers write
// one per IP of a Service.
func LatestMessages(events []corev1.Event, reason string) map[string]string {
	out := map[string]string{}
	at := map[string]time.Time{}
	for _, e := range events {
		if e.Reason != reason {
			continue
		}
		key := e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
		if f := strings.Fields(e.Message); len(f) > 0 {
			if ip, err := netip.ParseAddr(f[0]); err == nil {
				key += " " + ip.String()
			}
		}
		t := e.LastTimestamp.Time
		if t.IsZero() {
			t = e.EventTime.Time
		}
		if _, ok := out[key]; !ok || !t.Before(at[key]) {
			out[key], at[key] = e.Message, t
		}
	}
	return out
}
