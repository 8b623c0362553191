package reconcile

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// sweepEvery is how often a term looks for Services its cache lacks.
const sweepEvery = 2 * time.Second

// sweep covers for the informer cache while it lags behind the apiserver,
// as it does after an outage: client-go's informers then wait up to a
// minute (a 30 s backoff, doubled by jitter) before they list again, and a
// Service created meanwhile would wait as long for its IP. Every period, it
// lists the Services' metadata from the apiserver and enqueues:
//   - those the cache lacks, which the reconciler then reads from the
//     apiserver (see apiOnly);
//   - those read that way and deleted before the cache saw them: no event
//     will ever report their deletion, and without the sweep their IPs
//     would stay taken until the next term.
//
// It stops once two sweeps in a row find the cache complete and no Service
// known only from the apiserver, or when the term ends. Errors are logged
// and the sweep tried again.
func (r *ServiceReconciler) sweep(ctx context.Context, term uint64, clk clock.Clock, every time.Duration) {
	logger := log.FromContext(ctx).WithName("sweep")
	complete := 0
	for complete < 2 {
		select {
		case <-ctx.Done():
			return
		case <-clk.After(every):
		}
		d, err := r.compareCache(ctx, term)
		if err != nil {
			logger.Error(err, "sweep for Services the cache lacks")
			complete = 0
			continue
		}
		if len(d.missing) == 0 && len(d.gone) == 0 && d.uncached == 0 {
			complete++
			continue
		}
		complete = 0
		if len(d.missing) > 0 {
			logger.Info("the cache lacks Services the apiserver has; reading them from the apiserver", "services", len(d.missing))
			r.st.markUncached(term, d.missing...)
		}
		if len(d.gone) > 0 {
			logger.Info("Services deleted before the cache saw them; releasing their IPs", "services", len(d.gone))
		}
		if q, _ := r.st.queues(); q != nil {
			for _, k := range slices.Concat(d.missing, d.gone) {
				ns, name, _ := cache.SplitMetaNamespaceKey(k)
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
			}
		}
	}
}

// cacheDiff is what a sweep finds.
type cacheDiff struct {
	// missing are the Services the apiserver has and the cache does not.
	missing []string
	// gone are Services read from the apiserver this term that neither
	// the apiserver nor the cache has any more.
	gone []string
	// uncached counts the Services read from the apiserver this term that
	// the cache does not show yet.
	uncached int
}

// compareCache compares the Services the apiserver lists with the cache's.
func (r *ServiceReconciler) compareCache(ctx context.Context, term uint64) (cacheDiff, error) {
	var fromAPI metav1.PartialObjectMetadataList
	fromAPI.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceList"))
	if err := r.api.List(ctx, &fromAPI); err != nil {
		return cacheDiff{}, fmt.Errorf("list services from the apiserver: %w", err)
	}
	var cached corev1.ServiceList
	if err := r.reader.List(ctx, &cached, client.UnsafeDisableDeepCopy); err != nil {
		return cacheDiff{}, fmt.Errorf("list cached services: %w", err)
	}
	inCache := make(map[string]bool, len(cached.Items))
	for i := range cached.Items {
		inCache[client.ObjectKeyFromObject(&cached.Items[i]).String()] = true
	}
	inAPI := make(map[string]bool, len(fromAPI.Items))
	var d cacheDiff
	for i := range fromAPI.Items {
		k := client.ObjectKeyFromObject(&fromAPI.Items[i]).String()
		inAPI[k] = true
		if !inCache[k] {
			d.missing = append(d.missing, k)
		}
	}
	d.gone, d.uncached = r.st.checkUncached(term,
		func(k string) bool { return inCache[k] },
		func(k string) bool { return inAPI[k] })
	return d, nil
}
