package speaker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/internal/plan"
)

// Event reasons on Services.
const (
	// ReasonAnnouncing: this node now answers for the IP.
	ReasonAnnouncing = "Announcing"
	// ReasonAnnouncingEverywhere: it answers on every link, because no
	// allowed link has a subnet containing the IP and no L2Advertisement
	// names interfaces.
	ReasonAnnouncingEverywhere = "AnnouncingOnEveryLink"
	// ReasonNotAnnounced: no node announces the IP; the message says why.
	ReasonNotAnnounced = "NotAnnounced"
	// ReasonAdvertising: this node advertises the IP over BGP.
	ReasonAdvertising = "Advertising"
)

// notice is one Event to emit on a Service.
type notice struct {
	service string
	typ     string
	reason  string
	message string
}

// announceNotices returns the Events for the entries this node starts to
// announce, or announces on other interfaces than before: one per Service
// of the IP, naming the node, so that `kubectl describe service` says who
// answers.
func announceNotices(node string, prev, next []plan.L2) []notice {
	before := map[netip.Addr][]string{}
	for _, e := range prev {
		before[e.IP] = e.Interfaces
	}
	var out []notice
	for _, e := range next {
		if old, ok := before[e.IP]; ok && slices.Equal(old, e.Interfaces) {
			continue
		}
		ifaces := strings.Join(e.Interfaces, ", ")
		n := notice{typ: corev1.EventTypeNormal, reason: ReasonAnnouncing,
			message: fmt.Sprintf("node %s announces %s over Layer 2 (ARP/NDP) on %s", node, e.IP, ifaces)}
		if e.Fallback {
			n.typ, n.reason = corev1.EventTypeWarning, ReasonAnnouncingEverywhere
			n.message = fmt.Sprintf("node %s announces %s over Layer 2 on every link (%s): no allowed interface has a subnet containing it; name interfaces in the L2Advertisement to choose", node, e.IP, ifaces)
		}
		for _, svc := range e.Services {
			n.service = svc
			out = append(out, n)
		}
	}
	return out
}

// unannouncedNotices returns the warnings to emit about IPs nobody
// announces, and the new record of what was reported. Only the plan's
// reporter reports, and only while it has quorum, so that users get one
// Event, not one per speaker; each reason is reported once until it
// changes. reported maps "service ip" to the reason last reported.
func unannouncedNotices(p plan.Plan, reported map[string]string) ([]notice, map[string]string) {
	if p.Reporter != p.Self || !p.Claim {
		return nil, map[string]string{}
	}
	var out []notice
	now := map[string]string{}
	for _, u := range p.Unannounced {
		k := u.Service + " " + u.IP.String()
		now[k] = u.Reason
		if reported[k] == u.Reason {
			continue
		}
		out = append(out, notice{service: u.Service, typ: corev1.EventTypeWarning, reason: ReasonNotAnnounced,
			message: fmt.Sprintf("%s is not announced: %s", u.IP, u.Reason)})
	}
	return out, now
}
