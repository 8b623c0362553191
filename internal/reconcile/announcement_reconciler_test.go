package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/announcement"
	hn "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestServiceAnnouncement follows one Service's announcement from the
// HeraldNodes: it appears, changes hands with an Event, goes unannounced
// with a warning after the grace, and goes away with the Service.
func TestServiceAnnouncement(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	m := startManager(t, nil, func(o *Options) { o.AnnouncementGrace = time.Second })
	cleanup(t, ns, "ann")
	createPool(t, "ann", ns, []string{"198.51.100.40/30"})
	createService(t, ns, "web")
	ip := waitIPs(t, ns, "web", 1)[0]
	svc := ns + "/web"
	node1, node2 := ns+"-node1", ns+"-node2"
	claims := bothAlive(node1, node2)
	putNode(t, hn.New(node1, claims, hn.Layer2(ip, "eth0", svc)))
	putNode(t, hn.New(node2, claims))

	sa := waitAnnouncement(t, ns, "web", func(s v1beta1.ServiceAnnouncementStatus) bool { return s.Layer2Nodes == node1 })
	if c := meta.FindStatusCondition(sa.Status.Conditions, v1beta1.ServiceAnnounced); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Announced = %+v, want True", c)
	}
	if sa.Status.IPList != ip || len(sa.OwnerReferences) != 1 || sa.OwnerReferences[0].UID != getService(t, ns, "web").UID {
		t.Errorf("IPs %q, owners %+v; want %s, owned by the Service", sa.Status.IPList, sa.OwnerReferences, ip)
	}

	// Failover: node1 lets go before node2 takes it, as a HeraldNode
	// write of each would show it.
	putNode(t, hn.New(node1, claims))
	putNode(t, hn.New(node2, claims, hn.Layer2(ip, "eth1", svc)))
	waitAnnouncement(t, ns, "web", func(s v1beta1.ServiceAnnouncementStatus) bool { return s.Layer2Nodes == node2 })
	waitEvent(t, ns, "web", announcement.ReasonAnnouncerChanged, fmt.Sprintf("%s now announced by %s over Layer 2 (was %s)", ip, node2, node1))

	// Nobody: after the grace, NoAnnouncer and one warning.
	putNode(t, hn.New(node2, claims))
	waitAnnouncement(t, ns, "web", func(s v1beta1.ServiceAnnouncementStatus) bool {
		c := meta.FindStatusCondition(s.Conditions, v1beta1.ServiceAnnounced)
		return c != nil && c.Reason == v1beta1.ReasonNoAnnouncer
	})
	waitEvent(t, ns, "web", announcement.ReasonNoAnnouncer, "No node announces "+ip)
	eventually(t, 10*time.Second, func() error {
		if n := testutil.ToFloat64(m.metrics.ServicesUnannounced); n != 1 {
			return fmt.Errorf("services_unannounced = %v, want 1", n)
		}
		return nil
	})

	// The Service goes, and its announcement with it (no garbage
	// collector runs here).
	if err := env.Client.Delete(context.Background(), getService(t, ns, "web")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &v1beta1.ServiceAnnouncement{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("serviceannouncement still there (%v)", err)
		}
		return nil
	})
}

// putNode creates or replaces a HeraldNode, deleted at cleanup.
func putNode(t *testing.T, n v1beta1.HeraldNode) {
	t.Helper()
	ctx := context.Background()
	var old v1beta1.HeraldNode
	switch err := env.Client.Get(ctx, client.ObjectKey{Name: n.Name}, &old); {
	case apierrors.IsNotFound(err):
		if err := env.Client.Create(ctx, &n); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), &n) })
	case err != nil:
		t.Fatal(err)
	default:
		n.ResourceVersion = old.ResourceVersion
		if err := env.Client.Update(ctx, &n); err != nil {
			t.Fatal(err)
		}
	}
}

func waitAnnouncement(t *testing.T, ns, name string, ok func(v1beta1.ServiceAnnouncementStatus) bool) *v1beta1.ServiceAnnouncement {
	t.Helper()
	var sa v1beta1.ServiceAnnouncement
	eventually(t, 15*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &sa); err != nil {
			return err
		}
		if !ok(sa.Status) {
			return fmt.Errorf("status %+v", sa.Status)
		}
		return nil
	})
	return &sa
}

// TestFlappingAnnouncerEventsBounded flips a Service's IP between two
// nodes many times: every flip is seen, but the Events stay two objects
// (one per direction, counted) and their count stays under client-go's
// spam filter (a burst of 25, then one per 5 minutes), however long it
// flaps. The first says "(was nobody)".
func TestFlappingAnnouncerEventsBounded(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "flap")
	createPool(t, "flap", ns, []string{"198.51.100.44/30"})
	createService(t, ns, "web")
	ip := waitIPs(t, ns, "web", 1)[0]
	svc := ns + "/web"
	nodes := [2]string{ns + "-node1", ns + "-node2"}
	claims := bothAlive(nodes[0], nodes[1])
	const flips = 40
	for i := range flips + 1 {
		on, off := nodes[i%2], nodes[(i+1)%2]
		putNode(t, hn.New(off, claims))
		putNode(t, hn.New(on, claims, hn.Layer2(ip, "eth0", svc)))
		waitAnnouncement(t, ns, "web", func(s v1beta1.ServiceAnnouncementStatus) bool { return s.Layer2Nodes == on })
	}
	// The positive signal: the spam filter's whole burst of Normal Events
	// on the Service (IPAllocated took one) has been recorded; more flips
	// than that were made.
	var objects, total int
	eventually(t, 20*time.Second, func() error {
		objects, total = announcerEvents(t, ns, "web")
		if total < 25 {
			return fmt.Errorf("%d Normal Events counted so far", total)
		}
		return nil
	})
	if objects > 3 || total > 26 {
		t.Errorf("%d flips made %d Event objects counting %d; want at most 3 objects and the spam filter's 25 (+1 refilled)", flips+1, objects, total)
	}
}

// announcerEvents counts the AnnouncerChanged Event objects on a Service,
// and the occurrences all its Normal Events count.
func announcerEvents(t *testing.T, ns, name string) (objects, total int) {
	t.Helper()
	var list corev1.EventList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		if e.InvolvedObject.Name != name || e.Type != corev1.EventTypeNormal {
			continue
		}
		total += int(max(e.Count, 1))
		if e.Reason == announcement.ReasonAnnouncerChanged {
			objects++
		}
	}
	return objects, total
}

// bothAlive is two speakers that claim IPs and see each other alive, as
// each speaker's HeraldNode says.
func bothAlive(a, b string) hn.Option {
	return func(n *v1beta1.HeraldNode) {
		hn.Quorum(2, 2, "2 of 2 alive: claims IPs")(n)
		hn.Members(a, b)(n)
	}
}
