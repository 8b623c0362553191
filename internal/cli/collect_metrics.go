package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// metricsPort is the name of the container port the controller and the
// speakers serve /metrics on (config/controller, config/speaker).
const metricsPort = "https-metrics"

// metricsTimeout bounds each pod's scrape, so that a pod that does not
// answer cannot hold up the bundle.
const metricsTimeout = 10 * time.Second

// collectMetrics writes, for each pod with a metrics port, a snapshot of its
// metrics as metrics/POD.txt, read through the apiserver's pod proxy. A pod
// that cannot be reached gets a file that says why instead.
func collectMetrics(ctx context.Context, cs kubernetes.Interface, b *bundle, pods []corev1.Pod, note func(string, error)) {
	for _, p := range pods {
		scheme, port, ok := metricsEndpoint(p)
		if !ok {
			continue
		}
		name := "metrics/" + p.Name + ".txt"
		sctx, cancel := context.WithTimeout(ctx, metricsTimeout)
		data, err := cs.CoreV1().Pods(p.Namespace).ProxyGet(scheme, p.Name, port, "metrics", nil).DoRaw(sctx)
		cancel()
		if err != nil {
			data = []byte(unreachable(p, scheme, port, err))
		}
		note(name, b.add(name, data))
	}
}

// metricsEndpoint finds pod's metrics port by name; a port named https-…
// is HTTPS.
func metricsEndpoint(pod corev1.Pod) (scheme, port string, ok bool) {
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == metricsPort {
				scheme = "http"
				if strings.HasPrefix(cp.Name, "https") {
					scheme = "https"
				}
				return scheme, strconv.Itoa(int(cp.ContainerPort)), true
			}
		}
	}
	return "", "", false
}

// unreachable is the line written for a pod whose metrics could not be read.
func unreachable(pod corev1.Pod, scheme, port string, err error) string {
	msg := fmt.Sprintf("# could not reach %s/%s:%s over %s through the apiserver's pod proxy (pod phase %s): %v\n",
		pod.Namespace, pod.Name, port, scheme, orUnknown(string(pod.Status.Phase)), err)
	if strings.Contains(err.Error(), "Unauthorized") || strings.Contains(err.Error(), "Forbidden") {
		msg += "# the metrics endpoint wants a token allowed to get /metrics, which the pod proxy does not pass on: " +
			"use kubectl port-forward and a token bound to herald-metrics-reader\n"
	}
	return msg
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
