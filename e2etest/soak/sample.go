package soak

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sample is one reading of one process.
type Sample struct {
	// At is the time since the soak started.
	At time.Duration
	// RSS is VmRSS from /proc; HeapInuse is go_memstats_heap_inuse_bytes.
	RSS, HeapInuse int64
	// HeapGoal is go_memstats_next_gc_bytes, the heap size that triggers
	// the next GC: the live heap at the last GC times (1 + GOGC/100). It
	// moves only at a GC, so it follows the live heap without the
	// sawtooth of garbage that HeapInuse swings through between GCs.
	HeapGoal   int64
	Goroutines int
}

// Metric names read from a process's /metrics.
const (
	heapInuseMetric  = "go_memstats_heap_inuse_bytes"
	heapGoalMetric   = "go_memstats_next_gc_bytes"
	goroutinesMetric = "go_goroutines"
)

var wantMetrics = []string{heapInuseMetric, heapGoalMetric, goroutinesMetric}

// ParseMetrics reads the heap in use, the heap goal and the goroutine
// count from a Prometheus text exposition into a Sample, and fails if one
// is missing, so that a process serving no Go metrics is not mistaken for
// a flat one.
func ParseMetrics(r io.Reader) (Sample, error) {
	found := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(wantMetrics, name) {
			continue
		}
		v, perr := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if perr != nil {
			return Sample{}, fmt.Errorf("parse %s: %w", name, perr)
		}
		found[name] = v
	}
	if err := sc.Err(); err != nil {
		return Sample{}, fmt.Errorf("read metrics: %w", err)
	}
	for _, m := range wantMetrics {
		if _, ok := found[m]; !ok {
			return Sample{}, fmt.Errorf("metrics lack %s", m)
		}
	}
	return Sample{HeapInuse: int64(found[heapInuseMetric]), HeapGoal: int64(found[heapGoalMetric]), Goroutines: int(found[goroutinesMetric])}, nil
}

// ReadRSS returns a process's resident set size (VmRSS) in bytes.
func ReadRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	defer f.Close()
	return parseRSS(f)
}

func parseRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmRSS %q: %w", v, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS in /proc status: %w", sc.Err())
}
