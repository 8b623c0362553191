package cli

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestMetricsEndpoint(t *testing.T) {
	pod := func(ports ...corev1.ContainerPort) corev1.Pod {
		return corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "sidecar"}, {Name: "main", Ports: ports}}}}
	}
	for _, tt := range []struct {
		name         string
		pod          corev1.Pod
		scheme, port string
		ok           bool
	}{
		{"speaker", pod(corev1.ContainerPort{Name: "health", ContainerPort: 7473}, corev1.ContainerPort{Name: "https-metrics", ContainerPort: 7472}), "https", "7472", true},
		{"controller", pod(corev1.ContainerPort{Name: "https-metrics", ContainerPort: 8443}), "https", "8443", true},
		{"not Herald's", pod(corev1.ContainerPort{Name: "metrics", ContainerPort: 9100}), "", "", false},
	} {
		scheme, port, ok := metricsEndpoint(tt.pod)
		if scheme != tt.scheme || port != tt.port || ok != tt.ok {
			t.Errorf("%s: %s %s %v, want %s %s %v", tt.name, scheme, port, ok, tt.scheme, tt.port, tt.ok)
		}
	}
}

func TestUnreachable(t *testing.T) {
	p := corev1.Pod{}
	p.Namespace, p.Name, p.Status.Phase = "herald-system", "speaker-x", corev1.PodRunning
	if got := unreachable(p, "https", "7472", errors.New("dial tcp: i/o timeout")); !strings.HasPrefix(got, "# could not reach herald-system/speaker-x:7472 over https") ||
		strings.Contains(got, "token") {
		t.Errorf("timeout: %q", got)
	}
	if got := unreachable(p, "https", "7472", errors.New("Unauthorized")); !strings.Contains(got, "herald-metrics-reader") {
		t.Errorf("401: %q", got)
	}
}
