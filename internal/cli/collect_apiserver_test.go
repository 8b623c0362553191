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
	for name, data := range files {
		for _, form := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
			if strings.Contains(data, form) {
				t.Errorf("%s holds the Secret's value", name)
			}
		}
	}
	t.Logf("bundle: %d files; errors.txt: %q", len(files), files["herald-support/errors.txt"])
}
