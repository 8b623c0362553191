package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/heraldlb/herald/internal/testenv"
)

// ErrMissingDeps means the machine lacks something the lab needs.
var ErrMissingDeps = errors.New("the lab needs root and the Debian packages frr nftables arping ndisc6 iputils-ping curl: run `make test` or `sudo e2etest/install-deps.sh`")

var tools = []string{"ip", "nft", "sysctl", "curl", "arping", "ndisc6", "vtysh", "go", ZebraBin, BGPDBin}

// CheckDeps reports what is missing to run a lab, wrapping ErrMissingDeps.
func CheckDeps() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w (missing: %s)", ErrMissingDeps, strings.Join(missing, ", "))
	}
	return nil
}

// Require skips the test when the lab cannot run here: not root, a missing
// package, or no apiserver build. Under CI=true each of these fails the test
// instead: CI must run the lab.
func Require(tb testing.TB) {
	tb.Helper()
	err := CheckDeps()
	if err == nil {
		_, err = testenv.BinDir()
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("lab dependency missing under CI: %v", err)
	}
	tb.Skip(err.Error())
}
