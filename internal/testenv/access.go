package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// ReadObjects decodes every YAML document of a file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// ApplyFile creates the objects of a YAML file for which keep is true (all
// of them when keep is nil).
func ApplyFile(ctx context.Context, c client.Client, path string, keep func(*unstructured.Unstructured) bool) error {
	objs, err := ReadObjects(path)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if keep != nil && !keep(o) {
			continue
		}
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s %s from %s: %w", o.GetKind(), o.GetName(), filepath.Base(path), err)
		}
	}
	return nil
}

// Token is a fresh token of a ServiceAccount, valid for two hours.
func Token(ctx context.Context, cs kubernetes.Interface, namespace, sa string) (string, error) {
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", sa, err)
	}
	return tr.Status.Token, nil
}

// AsToken is admin's server with token as the only credential.
func AsToken(admin *rest.Config, token string) *rest.Config {
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = token
	return cfg
}

var insecureClient = &http.Client{
	Timeout: 5 * time.Second,
	// A metrics endpoint's certificate is self-signed; what is tested is
	// who may read it.
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

// GetWithToken GETs url with token as the bearer token ("": none), not
// checking the server's certificate.
func GetWithToken(ctx context.Context, url, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return insecureClient.Do(req)
}

// Status is GetWithToken's status code and body.
func Status(ctx context.Context, url, token string) (int, string, error) {
	resp, err := GetWithToken(ctx, url, token)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// CheckMetricsAccess checks that the HTTPS metrics endpoint at url refuses
// an anonymous caller, a bad token and nobody (a token without get on
// /metrics), serves reader, and does not answer plain HTTP. It returns what
// reader was served. The endpoint must already serve reader.
func CheckMetricsAccess(tb testing.TB, url, reader, nobody string) string {
	tb.Helper()
	ctx := context.Background()
	var served string
	for _, tt := range []struct {
		who   string
		token string
		want  int // 0: any refusal
	}{
		{"anonymous", "", http.StatusUnauthorized},
		// controller-runtime's filter answers 500 when the TokenReview
		// reports an error, as it does for a token it cannot parse.
		{"a bad token", "not-a-token", 0},
		{"a ServiceAccount without the role", nobody, http.StatusForbidden},
		{"herald-metrics-reader", reader, http.StatusOK},
	} {
		code, body, err := Status(ctx, url, tt.token)
		if err != nil || tt.want != 0 && code != tt.want || tt.want == 0 && (code == http.StatusOK || strings.Contains(body, "herald_")) {
			tb.Errorf("metrics for %s: %d, %v; want %d", tt.who, code, err, tt.want)
		}
		if tt.token == reader && code == http.StatusOK {
			served = body
		}
	}
	plain := strings.Replace(url, "https://", "http://", 1)
	if code, _, err := Status(ctx, plain, reader); err == nil && code == http.StatusOK {
		tb.Errorf("metrics served over plain HTTP")
	}
	return served
}

// FreeAddr is a loopback TCP address whose port is free right now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	port, err := freePort("127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// MetricsTokens creates two ServiceAccounts in namespace, one bound to the
// ClusterRole herald-metrics-reader and one bound to nothing, and returns
// their tokens: the callers CheckMetricsAccess needs.
func MetricsTokens(ctx context.Context, cs kubernetes.Interface, namespace string) (reader, nobody string, err error) {
	for _, sa := range []string{"metrics-reader", "nobody"} {
		if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
			return "", "", fmt.Errorf("create service account %s: %w", sa, err)
		}
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "herald-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "metrics-reader", Namespace: namespace}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return "", "", fmt.Errorf("bind metrics reader: %w", err)
	}
	if reader, err = Token(ctx, cs, namespace, "metrics-reader"); err != nil {
		return "", "", err
	}
	if nobody, err = Token(ctx, cs, namespace, "nobody"); err != nil {
		return "", "", err
	}
	return reader, nobody, nil
}

// RunManager starts mgr until the test ends, and fails the test if it
// ended with an error.
func RunManager(tb testing.TB, mgr manager.Manager) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("manager: %v", err)
		}
	})
}
