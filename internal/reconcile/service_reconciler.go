package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/metrics"
)

// Event reasons on Services.
const (
	ReasonIPAllocated      = "IPAllocated"
	ReasonAllocationFailed = "AllocationFailed"
	ReasonAddressOrphaned  = "AddressOrphaned"
	ReasonIPReleased       = "IPReleased"
	// ReasonIPReplaced: IPs found in the Service's status were not its to
	// keep (outside every pool, or held by another Service; see adopt), and
	// it got new ones.
	ReasonIPReplaced = "IPReplaced"
)

// ErrAnnotationNotKept means the apiserver answered a status patch that set
// or removed the pool annotation without the change: the reconcile fails,
// and is retried.
var ErrAnnotationNotKept = errors.New("the apiserver did not keep the pool annotation sent with the status")

// ServiceReconciler gives LoadBalancer Services their IPs.
//
// Besides Services, its queue carries requests whose namespace is empty: they
// ask it to enqueue Services. Name "*" asks for every Service (a term
// begins); any other name asks for the Services still waiting for an IP in
// that namespace, or in every namespace when the name is empty (a pool or a
// namespace's labels changed). Listing in a reconcile rather than in a
// watch's map function means a failed list is an error that is logged and
// retried, not an empty result.
type ServiceReconciler struct {
	client   client.Client
	reader   client.Reader // the informer cache
	api      client.Reader // the apiserver itself, for the start-up barrier
	recorder record.EventRecorder
	metrics  *metrics.Controller
	st       *state
	class    kube.ClassPolicy
	// poolDelay coalesces pool status writes.
	poolDelay time.Duration
	// quiet hears of each allocation, so that writes that can wait do.
	quiet *allocationQuiet
}

// allServices asks the Service reconciler to enqueue every Service.
const allServices = "*"

// enqueueRequest is a request to enqueue Services (see ServiceReconciler).
func enqueueRequest(name string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}
}

// Reconcile allocates, keeps or releases the IPs of one Service.
func (r *ServiceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if req.Namespace == "" {
		return reconcile.Result{}, r.enqueue(ctx, req.Name)
	}
	return result(r.st.lead(ctx, "service", func(term uint64) error { return r.reconcile(ctx, term, req) }))
}

func (r *ServiceReconciler) reconcile(ctx context.Context, term uint64, req reconcile.Request) error {
	if err := catchUp(ctx, term, r.st, r.reader, r.api, r.recorder, r.class); err != nil {
		return err
	}
	k := req.String()
	var svc corev1.Service
	err := r.reader.Get(ctx, req.NamespacedName, &svc)
	if apierrors.IsNotFound(err) && r.st.apiOnly(term, k) {
		// The apiserver has shown it this term, but the cache has not seen
		// it (see sweep): read it from the apiserver, and let the sweep
		// watch for its deletion until the cache shows it.
		if err = r.api.Get(ctx, req.NamespacedName, &svc); err == nil {
			r.st.markUncached(term, k)
		}
	}
	if err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get service %s: %w", k, err)
		}
		a, held, err := r.st.release(term, k)
		if err != nil {
			return err
		}
		if held {
			r.st.enqueuePool(a.Pool, r.poolDelay)
		}
		r.st.done(term, kindService, k, "")
		return nil
	}
	if r.st.stale(k, svc.ResourceVersion) {
		// Our own last write is not in the cache yet; its event will bring
		// the Service back.
		return nil
	}
	if err := r.serve(ctx, term, &svc); err != nil {
		return err
	}
	r.st.done(term, kindService, k, svc.ResourceVersion)
	return nil
}

// serve brings one cached Service up to date.
func (r *ServiceReconciler) serve(ctx context.Context, term uint64, svc *corev1.Service) error {
	if !r.class.Handles(svc) || svc.DeletionTimestamp != nil {
		return r.letGo(ctx, term, svc)
	}
	var ns corev1.Namespace
	if err := r.reader.Get(ctx, types.NamespacedName{Name: svc.Namespace}, &ns); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("get namespace %s: %w", svc.Namespace, err)
	}
	areq, err := config.Request(svc, ns.Labels)
	if err != nil {
		// What the Service holds stays held: a bad annotation never takes an
		// IP away.
		r.fail(ctx, svc, err)
		return nil
	}
	al, err := r.st.allocate(term, areq, config.IngressIPs(svc))
	switch {
	case errors.Is(err, errNotLeading):
		return err
	case err != nil:
		r.fail(ctx, svc, err)
		return nil
	}
	r.st.enqueuePool(al.Pool, r.poolDelay)
	if al.PrevPool != al.Pool {
		r.st.enqueuePool(al.PrevPool, r.poolDelay)
	}
	return r.apply(ctx, term, svc, al)
}

// apply writes the assignment, status and pool annotation together, when
// they are not in place yet.
func (r *ServiceReconciler) apply(ctx context.Context, term uint64, svc *corev1.Service, al allocation) error {
	body := assignPatch(svc, al.Assignment)
	if body == nil {
		r.st.settled(term, key(svc))
		return nil
	}
	_, changed := body["status"]
	if changed {
		// Before and after: a patch may take longer than the quiet.
		r.quiet.touch()
	}
	if _, err := r.patch(ctx, term, svc, body); err != nil {
		return fmt.Errorf("patch status of service %s: %w", key(svc), err)
	}
	r.st.settled(term, key(svc))
	if !changed {
		return nil
	}
	r.quiet.touch()
	switch {
	case len(al.Replaced) > 0:
		r.recorder.Event(svc, corev1.EventTypeWarning, ReasonIPReplaced, replacedMessage(al.Replaced, al.Why, al.Assignment))
	case !ipam.SameIPs(config.IngressIPs(svc), al.IPs):
		r.recorder.Eventf(svc, corev1.EventTypeNormal, ReasonIPAllocated, "Assigned IP %s from pool %q", joinIPs(al.Assignment), al.Pool)
	}
	return nil
}

// letGo releases the IPs of a Service that is no longer ours (deleted, type
// or class changed) and removes what we wrote to it. A Service we never
// handled is not written to, and neither is a status that is no longer ours
// (see statusOurs): after a class change, another implementation may
// already have written its own. The IPs are released only once the status
// no longer shows them, so that no other Service gets an IP that a status
// still shows.
func (r *ServiceReconciler) letGo(ctx context.Context, term uint64, svc *corev1.Service) error {
	k := key(svc)
	if svc.DeletionTimestamp != nil {
		return r.releaseKey(term, k)
	}
	held, wasHeld, err := r.st.lookup(term, k)
	if err != nil {
		return err
	}
	pool, annotated := svc.Annotations[config.AnnotationAllocatedFromPool]
	current := config.IngressIPs(svc)
	inPool := false
	if !wasHeld && annotated && len(current) > 0 {
		if inPool, err = r.st.poolContains(term, pool, current); err != nil {
			return err
		}
	}
	ours := statusOurs(current, wasHeld, held.IPs, annotated, inPool)
	if body := releasePatch(svc, ours); body != nil {
		if _, err := r.patch(ctx, term, svc, body); err != nil {
			return fmt.Errorf("clear status of service %s: %w", k, err)
		}
		if ours && wasHeld {
			r.recorder.Eventf(svc, corev1.EventTypeNormal, ReasonIPReleased, "Released IP %s: the Service is no longer a LoadBalancer of class %q",
				strings.Join(ipStrings(current), ","), r.class.Class)
		}
	}
	return r.releaseKey(term, k)
}

func (r *ServiceReconciler) releaseKey(term uint64, k string) error {
	a, held, err := r.st.release(term, k)
	if err != nil {
		return err
	}
	if held {
		r.st.enqueuePool(a.Pool, r.poolDelay)
	}
	return nil
}

// patch sends a JSON merge patch to the Service's status subresource,
// without resourceVersion so that it never conflicts, and remembers the
// resourceVersion it produced. It writes only while term is in force. The
// patch carries the Service's UID, which the apiserver refuses to change:
// a patch computed from a Service that was since deleted and created again
// under the same name fails, rather than giving the new one the old one's
// IPs.
func (r *ServiceReconciler) patch(ctx context.Context, term uint64, svc *corev1.Service, body map[string]any) (*corev1.Service, error) {
	sent := body
	if svc.UID != "" {
		md, _ := body["metadata"].(map[string]any)
		withUID := map[string]any{"uid": string(svc.UID)}
		maps.Copy(withUID, md)
		sent = maps.Clone(body)
		sent["metadata"] = withUID
	}
	data, err := json.Marshal(sent)
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	wctx, cancel, err := r.st.writeCtx(ctx, term)
	if err != nil {
		return nil, err
	}
	defer cancel()
	out := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name}}
	if err := r.client.Status().Patch(wctx, out, client.RawPatch(types.MergePatchType, data)); err != nil {
		return nil, r.st.fenced(wctx, ctx, err)
	}
	r.st.wrote(term, key(svc), out.ResourceVersion)
	if !keptAnnotation(out, body) {
		return out, ErrAnnotationNotKept
	}
	return out, nil
}

// fail reports an allocation failure on the Service and in the metrics.
func (r *ServiceReconciler) fail(ctx context.Context, svc *corev1.Service, err error) {
	reason := ipam.Reason(err)
	r.metrics.AllocationErrors.WithLabelValues(reason).Inc()
	r.recorder.Event(svc, corev1.EventTypeWarning, ReasonAllocationFailed, err.Error())
	log.FromContext(ctx).V(1).Info("allocation failed", "reason", reason, "error", err.Error())
}

// enqueue adds Services to the queue: every one (name allServices), or the
// ones still waiting for an IP in namespace name ("" for all).
func (r *ServiceReconciler) enqueue(ctx context.Context, name string) error {
	q, _ := r.st.queues()
	if q == nil {
		return nil // the controller's own start lists every Service
	}
	var opts []client.ListOption
	if name != "" && name != allServices {
		opts = append(opts, client.InNamespace(name))
	}
	var list corev1.ServiceList
	if err := r.reader.List(ctx, &list, append(opts, client.UnsafeDisableDeepCopy)...); err != nil {
		return fmt.Errorf("list services to reconcile: %w", err)
	}
	for i := range list.Items {
		svc := &list.Items[i]
		if name == allServices || r.class.Handles(svc) && len(svc.Status.LoadBalancer.Ingress) == 0 {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(svc)})
		}
	}
	return nil
}

// catchUp brings the allocator up to date before either reconciler acts:
// every assignment loaded once per term from the apiserver (api), then pool
// edits applied from the cache, with a warning to each Service an edit
// orphaned.
func catchUp(ctx context.Context, term uint64, st *state, cache, api client.Reader, rec record.EventRecorder, class kube.ClassPolicy) error {
	if err := st.ensureLoaded(ctx, term, api, class.Handles); err != nil {
		return err
	}
	notes, err := st.syncPools(ctx, term, cache)
	if err != nil {
		return err
	}
	notes = append(st.takeUndelivered(term), notes...)
	left, err := warnOrphans(ctx, cache, rec, notes)
	st.keepUndelivered(term, left)
	return err
}

// warnOrphans sends a warning to each Service a pool edit orphaned. A
// Service that is gone needs none. It returns the warnings it could not
// send because the Service could not be read, to be tried again, and why.
func warnOrphans(ctx context.Context, c client.Reader, rec record.EventRecorder, notes []orphanNote) ([]orphanNote, error) {
	var left []orphanNote
	var errs []error
	for _, n := range notes {
		ns, name, _ := strings.Cut(n.key, "/")
		var svc corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &svc); err != nil {
			if !apierrors.IsNotFound(err) {
				left = append(left, n)
				errs = append(errs, fmt.Errorf("get service %s to warn that its IP was orphaned: %w", n.key, err))
			}
			continue
		}
		rec.Eventf(&svc, corev1.EventTypeWarning, ReasonAddressOrphaned,
			"IP %s is no longer in pool %q after the pool was edited; the Service keeps it, but no pool covers it", strings.Join(ipStrings(n.ips), ","), n.pool)
	}
	return left, errors.Join(errs...)
}

func joinIPs(a ipam.Assignment) string { return strings.Join(ipStrings(a.IPs), ",") }
