package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestAnnouncementsWaitForAllocations creates a burst of Services: their
// ServiceAnnouncements are written once allocation pauses, not in between
// the status writes that give the Services their IPs, and each Service
// still gets exactly one.
func TestAnnouncementsWaitForAllocations(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	var writes writeCounter
	// A quiet much longer than a pause within this small burst, and a grace
	// longer than the test, so that each announcement is written once.
	startManager(t, &writes, func(o *Options) {
		o.AllocationQuiet, o.AnnouncementDelay, o.AnnouncementGrace = 3*time.Second, time.Minute, time.Hour
	})
	cleanup(t, ns, "annburst")
	createPool(t, "annburst", ns, []string{"203.0.113.0/25"})
	const n = 40
	createConcurrently(t, ns, n, 8)
	for i := range n {
		waitIPs(t, ns, fmt.Sprintf("b%d", i), 1)
	}
	eventually(t, 30*time.Second, func() error { return countAnnouncements(ns, n) })
	lastStatus, firstAnn, anns := -1, -1, 0
	for i, w := range strings.Split(writes.String(), "\n") {
		switch {
		case strings.Contains(w, "/namespaces/"+ns+"/services/") && strings.HasSuffix(w, "/status"):
			lastStatus = i
		case strings.Contains(w, "/namespaces/"+ns+"/serviceannouncements/"):
			anns++
			if firstAnn < 0 {
				firstAnn = i
			}
		}
	}
	if firstAnn < lastStatus {
		t.Errorf("a serviceannouncement was written (write %d) before the last status write (write %d)", firstAnn, lastStatus)
	}
	if anns != n {
		t.Errorf("%d serviceannouncement writes for %d Services, want one each", anns, n)
	}
}

// countAnnouncements says whether ns holds exactly want
// ServiceAnnouncements.
func countAnnouncements(ns string, want int) error {
	var list v1beta1.ServiceAnnouncementList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return err
	}
	if len(list.Items) != want {
		return fmt.Errorf("%d serviceannouncements, want %d", len(list.Items), want)
	}
	return nil
}
