package speaker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/bgp"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/plan"
)

// Condition reasons of a HeraldNode.
const (
	ReasonClaims        = "Claims"
	ReasonSettling      = "Settling"
	ReasonProbesFailing = "ProbesFailing"
	ReasonNoQuorum      = "NoQuorum"
	ReasonTieLost       = "TieLost"
	ReasonAnnounces     = "Announces"
	ReasonNothing       = "NothingToAnnounce"
	ReasonEstablished   = "AllEstablished"
	ReasonSessionsDown  = "SessionsDown"
	ReasonNoSessions    = "NoSessions"
	ReasonAccepted      = "Accepted"
	ReasonRejected      = "Rejected"
)

// nodeView is what the last plan gives this node's HeraldNode: the IPs it
// answers for, its quorum and members, its BGP plan, and the objects the
// configuration left out.
type nodeView struct {
	mine     []plan.L2
	q        quorum
	alive    []string
	bgp      plan.BGP
	problems map[string]config.Problem
}

// nodeStatus is the HeraldNode status for v and the sessions' states. The
// conditions keep their transition times from prev where their status did
// not change, so that the same inputs give an equal status and no write.
func nodeStatus(v nodeView, peers []bgp.PeerStatus, prev v1beta1.HeraldNodeStatus, started, now time.Time) v1beta1.HeraldNodeStatus {
	out := v1beta1.HeraldNodeStatus{
		StartedAt:  ptrTime(started),
		Quorum:     quorumOf(v.q),
		Members:    slices.Sorted(slices.Values(v.alive)),
		Layer2:     layer2Of(v.mine),
		BGPPeers:   peersOf(peers, v.bgp),
		Conditions: slices.Clone(prev.Conditions),
	}
	out.Layer2IPs = int32(len(out.Layer2))
	up, routes := 0, map[string]bool{}
	for _, p := range out.BGPPeers {
		if p.State == "Established" {
			up++
		}
	}
	for _, paths := range v.bgp.Paths {
		for _, x := range paths {
			routes[x.Prefix.String()] = true
		}
	}
	out.BGPRoutes, out.PeersUp = int32(len(routes)), fmt.Sprintf("%d/%d", up, len(out.BGPPeers))
	for _, c := range nodeConditions(out, v) {
		c.LastTransitionTime = metav1.NewTime(now)
		apimeta.SetStatusCondition(&out.Conditions, c)
	}
	return out
}

func ptrTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t)
	return &mt
}

func quorumOf(q quorum) v1beta1.NodeQuorum {
	return v1beta1.NodeQuorum{Alive: int32(q.verdict.Alive), Known: int32(q.verdict.Known),
		Claims: q.verdict.Claim && !q.waiting && q.healthy, Reason: quorumSentence(q)}
}

// quorumSentence says in words whether this node claims, and why.
func quorumSentence(q quorum) string {
	s := fmt.Sprintf("%d of %d known speakers alive: ", q.verdict.Alive, q.verdict.Known)
	switch {
	case q.waiting:
		return s + "does not claim yet (settling, or handing off)"
	case !q.healthy:
		return s + "does not claim (its probes fail: it may be cut off)"
	case q.verdict.Claim && q.verdict.Tie:
		return s + "claims (holds the tie-breaker side)"
	case q.verdict.Claim:
		return s + "claims"
	case q.verdict.Tie:
		return s + "does not claim (tie, the other side holds the tie-breaker)"
	}
	return s + "does not claim (no majority)"
}

func layer2Of(mine []plan.L2) []v1beta1.Layer2Announcement {
	sorted := slices.SortedFunc(slices.Values(mine), func(a, b plan.L2) int { return a.IP.Compare(b.IP) })
	var out []v1beta1.Layer2Announcement
	for _, e := range sorted {
		out = append(out, v1beta1.Layer2Announcement{IP: e.IP.String(), Interfaces: slices.Clone(e.Interfaces),
			Services: slices.Clone(e.Services), Everywhere: e.Fallback})
	}
	return out
}

// peersOf lists the sessions GoBGP runs, with the prefixes the plan sends
// to each, and then the sessions the plan could not open.
func peersOf(status []bgp.PeerStatus, p plan.BGP) []v1beta1.NodeBGPPeer {
	var out []v1beta1.NodeBGPPeer
	for _, st := range status {
		n := v1beta1.NodeBGPPeer{Name: st.Name, State: stateName(st.State), Since: ptrTime(st.Since),
			PrefixesSent: int32(st.PrefixesSent)}
		if st.PeerAddress.IsValid() {
			n.PeerAddress = st.PeerAddress.String()
		}
		if !st.Established {
			n.LastError = st.LastError
		}
		if l, ok := p.Limits[st.Name]; ok {
			n.MaxPrefixes, n.PrefixesWithheld = int32(l.Max), int32(l.Withheld())
		}
		for _, f := range st.Families {
			n.Families = append(n.Families, f.String())
		}
		for _, x := range p.Paths[st.Name] {
			if len(n.Prefixes) == v1beta1.MaxListedPrefixes {
				break
			}
			n.Prefixes = append(n.Prefixes, x.Prefix.String())
		}
		out = append(out, n)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Problems)) {
		out = append(out, v1beta1.NodeBGPPeer{Name: name, State: "NotOpened", LastError: p.Problems[name]})
	}
	return out
}

// stateName spells a GoBGP state as RFC 4271 does: "opensent" is OpenSent.
func stateName(s string) string {
	for _, n := range []string{"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"} {
		if strings.EqualFold(s, n) {
			return n
		}
	}
	return s
}

// nodeConditions are the HeraldNode's conditions for out, without times.
func nodeConditions(out v1beta1.HeraldNodeStatus, v nodeView) []metav1.Condition {
	return []metav1.Condition{readyCondition(v.q), announcingCondition(out),
		bgpCondition(out.BGPPeers), configCondition(v.problems)}
}

func readyCondition(q quorum) metav1.Condition {
	c := metav1.Condition{Type: v1beta1.NodeReady, Status: metav1.ConditionFalse, Message: quorumSentence(q)}
	switch {
	case q.waiting:
		c.Reason = ReasonSettling
	case !q.healthy:
		c.Reason = ReasonProbesFailing
	case q.verdict.Claim:
		c.Status, c.Reason = metav1.ConditionTrue, ReasonClaims
	case q.verdict.Tie:
		c.Reason = ReasonTieLost
	default:
		c.Reason = ReasonNoQuorum
	}
	return c
}

func announcingCondition(out v1beta1.HeraldNodeStatus) metav1.Condition {
	if out.Layer2IPs == 0 && out.BGPRoutes == 0 {
		return metav1.Condition{Type: v1beta1.NodeAnnouncing, Status: metav1.ConditionFalse, Reason: ReasonNothing,
			Message: "this node announces no IP: the election gives it none, or nothing is to be announced"}
	}
	return metav1.Condition{Type: v1beta1.NodeAnnouncing, Status: metav1.ConditionTrue, Reason: ReasonAnnounces,
		Message: fmt.Sprintf("%d IPs over Layer 2, %d BGP routes", out.Layer2IPs, out.BGPRoutes)}
}

func bgpCondition(peers []v1beta1.NodeBGPPeer) metav1.Condition {
	c := metav1.Condition{Type: v1beta1.NodeBGPEstablished}
	var down []string
	for _, p := range peers {
		if p.State != "Established" {
			down = append(down, fmt.Sprintf("%s (%s%s)", p.Name, p.State, cond(p.LastError != "", ": "+p.LastError)))
		}
	}
	switch {
	case len(peers) == 0:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonNoSessions, "no BGPPeer selects this node"
	case len(down) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, ReasonSessionsDown
		c.Message = fmt.Sprintf("%d of %d sessions not established: %s", len(down), len(peers), strings.Join(down, "; "))
	default:
		c.Status, c.Reason = metav1.ConditionTrue, ReasonEstablished
		c.Message = fmt.Sprintf("%d sessions established", len(peers))
	}
	return c
}

// configCondition says whether this node took the whole configuration,
// and names each object it left out, and why.
func configCondition(problems map[string]config.Problem) metav1.Condition {
	if len(problems) == 0 {
		return metav1.Condition{Type: v1beta1.NodeConfigurationAccepted, Status: metav1.ConditionTrue, Reason: ReasonAccepted,
			Message: "every configuration object is in force on this node"}
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(problems)) {
		p := problems[name]
		parts = append(parts, fmt.Sprintf("%s: %s: %s", name, p.Reason, p.Message))
	}
	msg := fmt.Sprintf("%d objects not in force, the last good configuration of each stays: %s", len(parts), strings.Join(parts, "; "))
	const limit = 32 << 10 // a condition message's bound
	if len(msg) > limit {
		msg = msg[:limit-3] + "..."
	}
	return metav1.Condition{Type: v1beta1.NodeConfigurationAccepted, Status: metav1.ConditionFalse, Reason: ReasonRejected, Message: msg}
}

// notInForce are the objects this node left out: those the configuration
// rejected, by "Kind/name", and the BGPPeers it could not open a session
// for (an unreadable password Secret, no source address).
func notInForce(cfg map[string]config.Problem, peers map[string]string) map[string]config.Problem {
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]config.Problem{}
	}
	for name, why := range peers {
		out["BGPPeer/"+name] = config.Problem{Reason: "NotOpened", Message: why}
	}
	return out
}

func cond(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}
