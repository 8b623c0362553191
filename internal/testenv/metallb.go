package testenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// MetalLBTool runs internal/tools/metallb/build.sh, which builds MetalLB's
// speaker from the release pinned there (once per machine) and knows where
// its CRDs are (--crds), and returns what it printed: a path.
func MetalLBTool(ctx context.Context, args ...string) (string, error) {
	script := filepath.Join(RepoRoot(), "internal", "tools", "metallb", "build.sh")
	out, err := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s %v: %w: %s", script, args, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("%s %v: %w", script, args, err)
	}
	return strings.TrimSpace(string(out)), nil
}
