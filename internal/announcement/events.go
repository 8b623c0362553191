package announcement

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Event reasons on the Service. The warning is not the speakers'
// NotAnnounced, which says why the planner gives an IP to nobody (and
// heraldctl why quotes): this one says that no node has reported the IP for
// the grace period, whatever the reason, and comes from the controller.
const (
	ReasonAnnouncerChanged = "AnnouncerChanged"
	ReasonNoAnnouncer      = v1beta1.ReasonNoAnnouncer
)

// Event is one Event to record on the Service.
type Event struct {
	Type, Reason, Message string
}

// Events returns what changed from prev to next that the Service's owner
// should hear about: an IP whose announcer over a protocol changed, and an
// IP nobody has announced for the grace period (NoAnnouncer). An IP that first appears
// makes no Event (there was no announcer to change from), nor does one
// losing its announcer: the next one, or NoAnnouncer, says it.
func Events(prev, next v1beta1.ServiceAnnouncementStatus) []Event {
	var out []Event
	for _, e := range next.IPs {
		if len(e.Nodes) == 0 {
			continue
		}
		i := find(prev.IPs, e.IP, e.Protocol)
		was := "nobody"
		switch {
		case i >= 0 && slices.Equal(prev.IPs[i].Nodes, e.Nodes):
			continue
		case i >= 0 && len(prev.IPs[i].Nodes) > 0:
			was = strings.Join(prev.IPs[i].Nodes, ", ")
		case i >= 0 && len(prev.IPs[i].PreviousNodes) > 0:
			was = strings.Join(prev.IPs[i].PreviousNodes, ", ")
		case !hasIP(prev.IPs, e.IP):
			continue
		}
		out = append(out, Event{corev1.EventTypeNormal, ReasonAnnouncerChanged,
			fmt.Sprintf("%s now announced by %s over %s (was %s)", e.IP, strings.Join(e.Nodes, ", "), protocolName(e.Protocol), was)})
	}
	if c := meta.FindStatusCondition(next.Conditions, v1beta1.ServiceAnnounced); c != nil && c.Reason == v1beta1.ReasonNoAnnouncer {
		if old := meta.FindStatusCondition(prev.Conditions, v1beta1.ServiceAnnounced); old == nil || old.Message != c.Message || old.Reason != c.Reason {
			out = append(out, Event{corev1.EventTypeWarning, ReasonNoAnnouncer, c.Message})
		}
	}
	return out
}

func protocolName(p string) string {
	if p == v1beta1.ProtocolLayer2 {
		return "Layer 2"
	}
	return "BGP"
}
