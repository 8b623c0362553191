package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/announcement"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// announcementOwner is the field manager of ServiceAnnouncements.
const announcementOwner = "herald-controller"

// AnnouncementReconciler keeps one ServiceAnnouncement per Service of ours
// that has an IP: who announces it, from the HeraldNodes, and Events on the
// Service when that changes (see internal/announcement). Only the leader
// writes, so the speakers never contend for a Service.
type AnnouncementReconciler struct {
	client   client.Client
	reader   client.Reader
	recorder record.EventRecorder
	metrics  *metrics.Controller
	st       *state
	class    kube.ClassPolicy
	clock    clock.PassiveClock
	grace    time.Duration
	// quiet holds the reconciles back while allocations are in flight.
	quiet *allocationQuiet

	index nodeIndex

	mu sync.Mutex
	// written is the status last applied per Service in this term: the
	// cache may not show it yet, and Events must not be sent twice.
	written map[string]v1beta1.ServiceAnnouncementStatus
	// unannounced holds the Services with Announced False.
	unannounced map[string]bool
}

// Reconcile brings the ServiceAnnouncement of one Service up to date.
func (r *AnnouncementReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	// Outside the term's work, so that stepping down never waits for it.
	// A wait ends early only when the controller stops; whoever leads next
	// looks at every Service anew.
	if r.quiet.wait(ctx) != nil {
		return reconcile.Result{}, nil
	}
	var after time.Duration
	err := r.st.lead(ctx, "serviceannouncement", func(term uint64) (err error) {
		after, err = r.reconcile(ctx, term, req)
		return err
	})
	if res, err := result(err); err != nil || res.RequeueAfter > 0 {
		return res, err
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

func (r *AnnouncementReconciler) reconcile(ctx context.Context, term uint64, req reconcile.Request) (time.Duration, error) {
	k := req.String()
	var svc corev1.Service
	if err := r.reader.Get(ctx, req.NamespacedName, &svc); err != nil {
		if !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("get service %s: %w", k, err)
		}
		return 0, r.remove(ctx, term, req)
	}
	ips := config.IngressIPs(&svc)
	if !r.class.Handles(&svc) || svc.DeletionTimestamp != nil || len(ips) == 0 {
		return 0, r.remove(ctx, term, req)
	}
	var nodes v1beta1.HeraldNodeList
	// Read-only, and each lists up to 1,024 prefixes per session: no copy.
	if err := r.reader.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return 0, fmt.Errorf("list heraldnodes: %w", err)
	}
	var cached v1beta1.ServiceAnnouncement
	err := r.reader.Get(ctx, req.NamespacedName, &cached)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, fmt.Errorf("get serviceannouncement %s: %w", k, err)
	}
	found := err == nil && metav1.IsControlledBy(&cached, &svc)
	prev, mine := r.last(k)
	if !mine {
		prev = cached.Status
	}
	next, after := announcement.Status(prev, r.index.of(nodes.Items).IPs(k, ips), r.clock.Now(), r.grace)
	if !equality.Semantic.DeepEqual(prev, next) || (!mine && !found) {
		if err := r.apply(ctx, term, &svc, next); err != nil {
			return 0, err
		}
	}
	for _, e := range announcement.Events(prev, next) {
		r.recorder.Event(&svc, e.Type, e.Reason, e.Message)
	}
	r.note(k, &next)
	return after, nil
}

// apply writes the status with server-side apply, owned by the Service so
// that the garbage collector removes it with the Service.
func (r *AnnouncementReconciler) apply(ctx context.Context, term uint64, svc *corev1.Service, st v1beta1.ServiceAnnouncementStatus) error {
	obj := &v1beta1.ServiceAnnouncement{
		TypeMeta: metav1.TypeMeta{APIVersion: v1beta1.GroupVersion.String(), Kind: "ServiceAnnouncement"},
		ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID, Controller: ptr.To(true),
		}}},
		Status: st,
	}
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return err
	}
	defer cancel()
	if err := r.client.Patch(wctx, obj, client.Apply, client.FieldOwner(announcementOwner), client.ForceOwnership); err != nil {
		return r.st.fenced(wctx, ctx, fmt.Errorf("apply serviceannouncement %s/%s: %w", svc.Namespace, svc.Name, err))
	}
	return nil
}

// remove deletes the ServiceAnnouncement of a Service that is gone or has
// no IP: the garbage collector would take it with the Service, but not
// when the Service merely loses its IP.
func (r *AnnouncementReconciler) remove(ctx context.Context, term uint64, req reconcile.Request) error {
	var cached v1beta1.ServiceAnnouncement
	if err := r.reader.Get(ctx, req.NamespacedName, &cached); apierrors.IsNotFound(err) {
		r.note(req.String(), nil)
		return nil
	}
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return err
	}
	defer cancel()
	sa := &v1beta1.ServiceAnnouncement{ObjectMeta: metav1.ObjectMeta{Namespace: req.Namespace, Name: req.Name}}
	if err := client.IgnoreNotFound(r.client.Delete(wctx, sa)); err != nil {
		return r.st.fenced(wctx, ctx, fmt.Errorf("delete serviceannouncement %s: %w", req, err))
	}
	r.note(req.String(), nil)
	return nil
}
