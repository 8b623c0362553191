package memlimit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

const (
	// EnvContainerLimit is the variable the DaemonSet sets from the
	// container's limits.memory (resourceFieldRef, in bytes).
	EnvContainerLimit = "HERALD_MEMORY_LIMIT"
	// envGo is the runtime's own variable; when set it wins.
	envGo = "GOMEMLIMIT"
	// share of the container limit given to the Go heap: the rest is for
	// what the runtime does not count (stacks it has not returned, the
	// binary's text, cgo-free but still non-heap mappings) and for a
	// collection in progress to finish before the kernel's OOM killer acts.
	percent = 90
)

// FromEnv returns the soft memory limit to set, in bytes, and whether
// there is one to set: 90% of EnvContainerLimit, unless GOMEMLIMIT is
// set (the runtime has then taken it already) or no container limit is
// given. A container limit that is not a positive number of bytes is an
// error, so that a broken manifest shows in the log rather than silently
// running without a limit.
func FromEnv(getenv func(string) string) (int64, bool, error) {
	if getenv(envGo) != "" {
		return 0, false, nil
	}
	v := strings.TrimSpace(getenv(EnvContainerLimit))
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false, fmt.Errorf("parse $%s %q: want the container's memory limit in bytes (resourceFieldRef limits.memory)", EnvContainerLimit, v)
	}
	if n > math.MaxInt64/100 {
		return n / 100 * percent, true, nil
	}
	return n * percent / 100, true, nil
}
