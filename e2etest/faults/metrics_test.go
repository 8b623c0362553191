package faults

import (
	"context"
	"fmt"
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
	eventually(t, 30*time.Second, func() error {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, _, err := testenv.Status(ctx, c.probeURL+path, ""); err != nil || code != http.StatusOK {
				return fmt.Errorf("%s without credentials: %d, %v", path, code, err)
			}
		}
		if code, _, err := testenv.Status(ctx, c.metricsURL, readerToken); err != nil || code != http.StatusOK {
			return fmt.Errorf("metrics not served yet: %d, %v", code, err)
		}
		return nil
	})
	if body := testenv.CheckMetricsAccess(t, c.metricsURL, readerToken, nobodyToken); !strings.Contains(body, "herald_controller_leader 1") {
		t.Errorf("metrics lack herald_controller_leader 1")
	}
	if got := c.unexpectedExits(); len(got) > 0 {
		t.Errorf("controller exited: %v", got)
	}
}
