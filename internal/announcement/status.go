package announcement

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Status returns the ServiceAnnouncement status for ips (from IPs), given
// the previous one, and how soon to look again (0: no need). An IP that
// nobody announces makes Announced False: WaitingForAnnouncer for the
// first grace, so that a failover stays quiet, then NoAnnouncer.
func Status(prev v1beta1.ServiceAnnouncementStatus, ips []v1beta1.AnnouncedIP, now time.Time, grace time.Duration) (v1beta1.ServiceAnnouncementStatus, time.Duration) {
	next := v1beta1.ServiceAnnouncementStatus{
		IPs:        remember(prev.IPs, ips),
		Conditions: slices.Clone(prev.Conditions),
	}
	summarize(&next)
	c, recheck := announced(prev, next.IPs, now, grace)
	// SetStatusCondition keeps the old transition time when the status
	// stays; a new one is now, by our clock, not the wall clock.
	c.LastTransitionTime = metav1.NewTime(now)
	meta.SetStatusCondition(&next.Conditions, c)
	return next, recheck
}

// remember keeps, for an IP still in ips that was announced over a
// protocol and no longer is, an entry naming who last announced it.
func remember(prev, ips []v1beta1.AnnouncedIP) []v1beta1.AnnouncedIP {
	out := slices.Clone(ips)
	for _, p := range prev {
		last := p.Nodes
		if len(last) == 0 {
			last = p.PreviousNodes
		}
		if p.Protocol == "" || len(last) == 0 || !hasIP(ips, p.IP) {
			continue
		}
		if i := find(out, p.IP, p.Protocol); i >= 0 {
			if len(out[i].Nodes) == 0 {
				out[i].PreviousNodes = last
			}
			continue
		}
		out = append(out, v1beta1.AnnouncedIP{IP: p.IP, Protocol: p.Protocol, PreviousNodes: last})
	}
	// An IP that has an entry by protocol needs no protocol-less one.
	out = slices.DeleteFunc(out, func(e v1beta1.AnnouncedIP) bool {
		return e.Protocol == "" && slices.ContainsFunc(out, func(o v1beta1.AnnouncedIP) bool { return o.IP == e.IP && o.Protocol != "" })
	})
	slices.SortFunc(out, func(a, b v1beta1.AnnouncedIP) int {
		return strings.Compare(a.IP+"/"+a.Protocol, b.IP+"/"+b.Protocol)
	})
	return out
}

func hasIP(ips []v1beta1.AnnouncedIP, ip string) bool {
	return slices.ContainsFunc(ips, func(e v1beta1.AnnouncedIP) bool { return e.IP == ip })
}

func find(ips []v1beta1.AnnouncedIP, ip, protocol string) int {
	return slices.IndexFunc(ips, func(e v1beta1.AnnouncedIP) bool { return e.IP == ip && e.Protocol == protocol })
}

// summarize fills the columns kubectl get shows.
func summarize(s *v1beta1.ServiceAnnouncementStatus) {
	var ips, l2, bgp []string
	up, sessions := 0, 0
	for _, e := range s.IPs {
		ips = append(ips, e.IP)
		switch e.Protocol {
		case v1beta1.ProtocolLayer2:
			l2 = append(l2, e.Nodes...)
		case v1beta1.ProtocolBGP:
			bgp = append(bgp, e.Nodes...)
		}
		for _, p := range e.Peers {
			sessions++
			if p.State == Established {
				up++
			}
		}
	}
	s.IPList, s.Layer2Nodes, s.BGPNodes = joinSet(ips), joinSet(l2), joinSet(bgp)
	if sessions > 0 {
		s.Peers = fmt.Sprintf("%d/%d", up, sessions)
	}
}

// unannounced lists the IPs no node announces over any protocol.
func unannounced(ips []v1beta1.AnnouncedIP) []string {
	var out []string
	for _, e := range ips {
		if !slices.ContainsFunc(ips, func(o v1beta1.AnnouncedIP) bool { return o.IP == e.IP && len(o.Nodes) > 0 }) {
			out = append(out, e.IP)
		}
	}
	return slices.Compact(out)
}

// announced is the Announced condition, and how soon it may change by
// itself: when the grace of an unannounced IP runs out.
func announced(prev v1beta1.ServiceAnnouncementStatus, ips []v1beta1.AnnouncedIP, now time.Time, grace time.Duration) (metav1.Condition, time.Duration) {
	missing := unannounced(ips)
	if len(missing) == 0 {
		return metav1.Condition{Type: v1beta1.ServiceAnnounced, Status: metav1.ConditionTrue, Reason: v1beta1.ReasonAnnounced,
			Message: "Every IP is announced by a node."}, 0
	}
	since := now
	if old := meta.FindStatusCondition(prev.Conditions, v1beta1.ServiceAnnounced); old != nil && old.Status == metav1.ConditionFalse {
		since = old.LastTransitionTime.Time
	}
	msg := fmt.Sprintf("No node announces %s: no Ready speaker lists it in its HeraldNode (kubectl get heraldnodes).", strings.Join(missing, ", "))
	c := metav1.Condition{Type: v1beta1.ServiceAnnounced, Status: metav1.ConditionFalse, Reason: v1beta1.ReasonNoAnnouncer, Message: msg}
	if left := grace - now.Sub(since); left > 0 {
		c.Reason = v1beta1.ReasonWaitingForAnnouncer
		return c, left
	}
	return c, 0
}
