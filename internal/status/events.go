package status

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

// EventRow is one Event as `heraldctl events` shows it.
type EventRow struct {
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace,omitempty"`
	// Object is "Kind/name".
	Object  string `json:"object"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Source  string `json:"source,omitempty"`
	Count   int32  `json:"count,omitempty"`
}

// Events keeps the Events about Herald, those about its kinds and those its
// controller or speakers reported, last seen at or after since (the zero
// time keeps all), and orders them newest last.
func Events(evs []corev1.Event, since time.Time) []EventRow {
	rows := []EventRow{}
	for _, e := range evs {
		src := sourceOf(e)
		if !isHeralds(e, src) || lastSeen(e).Before(since) {
			continue
		}
		rows = append(rows, EventRow{Time: lastSeen(e), Namespace: e.Namespace, Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Type: e.Type, Reason: e.Reason, Message: e.Message, Source: src, Count: e.Count})
	}
	slices.SortStableFunc(rows, func(a, b EventRow) int { return a.Time.Compare(b.Time) })
	return rows
}

func isHeralds(e corev1.Event, src string) bool {
	group, _, _ := strings.Cut(e.InvolvedObject.APIVersion, "/")
	// The names Herald's controller's and speakers' recorders report as.
	return group == v1beta1.GroupVersion.Group || src == "herald-controller" || src == "herald-speaker"
}

// sourceOf is who reported e: the events.k8s.io reporter, else the
// core Event's source.
func sourceOf(e corev1.Event) string {
	if e.ReportingController != "" {
		return e.ReportingController
	}
	return e.Source.Component
}

// lastSeen is when e last happened, whichever API wrote it.
func lastSeen(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
