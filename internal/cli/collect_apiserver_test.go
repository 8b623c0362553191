package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// TestCollectRedactsSecrets writes a bundle from the real apiserver: it
// holds the configuration, the Secrets by name and key, and no Secret's
// value in any form.
func TestCollectRedactsSecrets(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	c := env.Client
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}})
	const value = "s3cret-value-that-must-not-leak"
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "collect-tor-pw"}, StringData: map[string]string{"password": value}}
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "collect-pool"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.240/29"}}}
	if err := c.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, sec) })
	if err := c.Create(ctx, pool); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, pool) })

	// No kubelet runs under the test apiserver: the pod cannot be reached,
	// and the bundle must say so rather than fail.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "collect-speaker-x"}, Spec: corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false), NodeName: "node1",
		Containers: []corev1.Container{{Name: "speaker", Image: "speaker", Ports: []corev1.ContainerPort{{Name: "https-metrics", ContainerPort: 7472}}}}}}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, pod, client.GracePeriodSeconds(0)) })

	var buf bytes.Buffer
	if err := RunCollect(ctx, flagsFor(), 100, &buf); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	gz, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = string(b)
	}
	for _, want := range []string{"herald-support/config/ipaddresspools.yaml", "herald-support/config/secrets-redacted.yaml", "herald-support/status.txt", "herald-support/errors.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s; has %d files", want, len(files))
		}
	}
	if !strings.Contains(files["herald-support/config/ipaddresspools.yaml"], "collect-pool") {
		t.Error("the pool is not in the bundle")
	}
	if s := files["herald-support/config/secrets-redacted.yaml"]; !strings.Contains(s, "collect-tor-pw") || !strings.Contains(s, "password") {
		t.Errorf("the Secret is not listed by name and key:\n%s", s)
	}
	if m, ok := files["herald-support/metrics/collect-speaker-x.txt"]; !ok || !strings.Contains(m, "could not reach herald-system/collect-speaker-x:7472 over https") {
		t.Errorf("metrics/collect-speaker-x.txt: present %v, %q", ok, m)
	}
	for name, data := range files {
		for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
			if strings.Contains(data, form) {
				t.Errorf("%s holds the Secret's value", name)
			}
		}
	}
	t.Logf("metrics/collect-speaker-x.txt: %s", files["herald-support/metrics/collect-speaker-x.txt"])
	t.Logf("bundle: %d files; errors.txt: %q", len(files), files["herald-support/errors.txt"])
}
