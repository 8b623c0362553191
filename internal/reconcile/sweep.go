package reconcile

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// lists the Services' metadata from the apiserver, and enqueues those the
// cache lacks, which the reconciler then reads from the apiserver (see
// apiOnly). It stops once two sweeps in a row find the cache complete, or
// when the term ends. Errors are logged and the sweep tried again.
func (r *ServiceReconciler) sweep(ctx context.Context, term uint64, clk clock.Clock, every time.Duration) {
	logger := log.FromContext(ctx).WithName("sweep")
	complete := 0
	for complete < 2 {
		select {
		case <-ctx.Done():
			return
		case <-clk.After(every):
		}
		missing, err := r.missingFromCache(ctx)
		if err != nil {
			logger.Error(err, "sweep for Services the cache lacks")
			complete = 0
			continue
		}
		if len(missing) == 0 {
			complete++
			continue
		}
		complete = 0
		logger.Info("the cache lacks Services the apiserver has; reading them from the apiserver", "services", len(missing))
		r.st.markAPIOnly(term, missing)
		if q, _ := r.st.queues(); q != nil {
			for _, k := range missing {
				q.Add(reconcile.Request{NamespacedName: k})
			}
		}
	}
}

// missingFromCache returns the Services the apiserver has and the cache
// does not.
func (r *ServiceReconciler) missingFromCache(ctx context.Context) ([]client.ObjectKey, error) {
	var fromAPI metav1.PartialObjectMetadataList
	fromAPI.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceList"))
	if err := r.api.List(ctx, &fromAPI); err != nil {
		return nil, fmt.Errorf("list services from the apiserver: %w", err)
	}
	var cached corev1.ServiceList
	if err := r.reader.List(ctx, &cached, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list cached services: %w", err)
	}
	have := make(map[client.ObjectKey]bool, len(cached.Items))
	for i := range cached.Items {
		have[client.ObjectKeyFromObject(&cached.Items[i])] = true
	}
	var out []client.ObjectKey
	for i := range fromAPI.Items {
		if k := client.ObjectKeyFromObject(&fromAPI.Items[i]); !have[k] {
			out = append(out, k)
		}
	}
	return out, nil
}
