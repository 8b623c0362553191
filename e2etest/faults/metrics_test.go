package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldlb/herald/internal/testenv"
)

// TestMetricsNeedAuthorization: the metrics endpoint answers only callers
// that authenticate and may get /metrics, over HTTPS; the probes, on their
// own port, answer anyone.
func TestMetricsNeedAuthorization(t *testing.T) {
	testenv.Require(t, env)
	c := startController(t, "metrics", "--leader-elect=false")
	ctx := context.Background()
	status := func(url, token string) (int, string, error) {
		resp, err := getWithToken(ctx, url, token)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	eventually(t, 30*time.Second, func() error {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, _, err := status(c.probeURL+path, ""); err != nil || code != http.StatusOK {
				return fmt.Errorf("%s without credentials: %d, %v", path, code, err)
			}
		}
		if code, _, err := status(c.metricsURL, readerToken); err != nil || code != http.StatusOK {
			return fmt.Errorf("metrics not served yet: %d, %v", code, err)
		}
		return nil
	})
	for _, tt := range []struct {
		who   string
		token string
		want  int // 0: any refusal
	}{
		{"anonymous", "", http.StatusUnauthorized},
		// controller-runtime's filter answers 500 when the TokenReview
		// reports an error, as it does for a token it cannot parse.
		{"a bad token", "not-a-token", 0},
		{"a ServiceAccount without the role", nobodyToken, http.StatusForbidden},
		{"herald-metrics-reader", readerToken, http.StatusOK},
	} {
		code, body, err := status(c.metricsURL, tt.token)
		if err != nil || tt.want != 0 && code != tt.want || tt.want == 0 && (code == http.StatusOK || strings.Contains(body, "herald_")) {
			t.Errorf("metrics for %s: %d, %v; want %d", tt.who, code, err, tt.want)
		}
		if code == http.StatusOK && !strings.Contains(body, "herald_controller_leader 1") {
			t.Errorf("metrics lack herald_controller_leader 1")
		}
	}
	plain := strings.Replace(c.metricsURL, "https://", "http://", 1)
	if code, _, err := status(plain, readerToken); err == nil && code == http.StatusOK {
		t.Errorf("metrics served over plain HTTP")
	}
	if got := c.unexpectedExits(); len(got) > 0 {
		t.Errorf("controller exited: %v", got)
	}
}
