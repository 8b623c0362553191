package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/heraldlb/herald/internal/testenv"
)

// controller is one controller process.
type controller struct {
	name    string
	args    []string
	logPath string

	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{} // closed when the process has exited
	signalled  *exec.Cmd     // the run we signalled, whose end is expected
	exits      []string      // how the runs we did not signal ended
	metricsURL string
	probeURL   string
}

// startController runs a controller replica with the shipped defaults
// (leader election on, metrics behind authentication), logging to a file
// kept when the test fails. It is stopped at cleanup.
func startController(t *testing.T, name string, extra ...string) *controller {
	t.Helper()
	c := &controller{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), args: extra}
	c.start(t)
	t.Cleanup(func() {
		c.kill()
		switch {
		case t.Failed():
			t.Logf("%s log (last lines):\n%s", name, logTail(c.logPath, 40))
		case os.Getenv("HERALD_FAULTS_LOGS") != "":
			t.Logf("%s log:\n%s", name, logTail(c.logPath, 100000))
		}
	})
	return c
}

// start runs the process again, on fresh ports.
func (c *controller) start(t *testing.T) {
	t.Helper()
	metrics, probe := testenv.FreeAddr(t), testenv.FreeAddr(t)
	args := append([]string{
		"--kubeconfig=" + controllerKubeconfig,
		"--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=" + probe,
		"--zap-log-level=info",
		"--zap-time-encoding=rfc3339nano",
	}, c.args...)
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== start %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(args, " "))
	cmd := exec.Command(controllerBin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The controller dies with the test binary, however that ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", c.name, err)
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.cmd, c.done = cmd, done
	c.metricsURL, c.probeURL = "https://"+metrics+"/metrics", "http://"+probe
	c.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		c.mu.Lock()
		if c.signalled != cmd {
			c.exits = append(c.exits, fmt.Sprintf("pid %d: %v", cmd.Process.Pid, err))
		}
		c.mu.Unlock()
		close(done)
	}()
}

// pid is the process's id, 0 if it is not running.
func (c *controller) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return 0
	default:
		return c.cmd.Process.Pid
	}
}

// signal sends sig and waits, up to 30 s, for the process to exit.
func (c *controller) signal(sig syscall.Signal) time.Time {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.signalled = cmd
	c.mu.Unlock()
	at := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		return at // already gone
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return at
}

// kill sends SIGKILL: the process gets no chance to release its Lease.
func (c *controller) kill() time.Time { return c.signal(syscall.SIGKILL) }

// stop sends SIGTERM: the process finishes its work and releases its Lease.
func (c *controller) stop() time.Time { return c.signal(syscall.SIGTERM) }

// unexpectedExits lists the runs that ended other than by our signal: a
// crash or an exit on its own.
func (c *controller) unexpectedExits() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.exits...)
}

// scrape reads the controller's metrics with the reader's token.
func (c *controller) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	c.mu.Lock()
	url := c.metricsURL
	c.mu.Unlock()
	resp, err := testenv.GetWithToken(ctx, url, readerToken)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// metric returns the value of a gauge or counter with the given labels (a
// missing series is 0).
func metric(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		}
	}
	return sum
}

// leads reports whether the replica says it leads and has caught up with
// everything that existed when it began to.
func (c *controller) leads(ctx context.Context) (leading, caughtUp bool) {
	if c.pid() == 0 {
		return false, false
	}
	m, err := c.scrape(ctx)
	if err != nil {
		return false, false
	}
	leading = metric(m, "herald_controller_leader") == 1
	return leading, leading && metric(m, "herald_controller_catch_up_pending") == 0
}

// usage is a process's peak resident memory and CPU time so far.
type usage struct {
	PeakRSS int64 // bytes
	CPU     time.Duration
}

func (u usage) String() string {
	return fmt.Sprintf("peak RSS %.1f MiB, CPU %v", float64(u.PeakRSS)/(1<<20), u.CPU.Round(10*time.Millisecond))
}

// usageOf reads /proc for a running process.
func usageOf(pid int) usage {
	var u usage
	if pid == 0 {
		return u
	}
	if f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				u.PeakRSS = kb << 10
			}
		}
		f.Close()
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			u.CPU = time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
		}
	}
	return u
}

// usage of the running process.
func (c *controller) usage() usage { return usageOf(c.pid()) }
