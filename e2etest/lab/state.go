package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Where a lab keeps what it must find again after a crash.
const (
	// StateDir holds the lab's logs, built binaries, FRR config, the list of
	// processes it started and a copy of the kubeconfig.
	StateDir = "/run/herald-lab"
	// LockFile is held (flock) for the life of a lab: one lab per machine.
	LockFile = "/run/herald-lab.lock"
	// FRRRunDir is where FRR's daemons put their sockets for `-N hlab-router`.
	FRRRunDir = "/run/frr/" + RouterNS

	pidsFile = StateDir + "/pids"
	// tmpDirsFile lists the apiserver's and etcd's temporary directories.
	tmpDirsFile = StateDir + "/tmpdirs"
)

// ErrBusy means another live process holds the lab lock.
var ErrBusy = errors.New("another lab is running on this machine")

// lock takes the machine-wide lab lock without waiting.
func lock() (*os.File, error) {
	f, err := os.OpenFile(LockFile, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lab lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(LockFile)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s); stop it with Ctrl-C or `go run ./e2etest/cmd/lab down`", ErrBusy, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock %s: %w", LockFile, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// lockHolder returns the pid written by the process holding the lock, or 0.
func lockHolder() int {
	data, err := os.ReadFile(LockFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// trackedProc is one process the lab started, identified by pid and start
// time so that a recycled pid is never killed.
type trackedProc struct {
	pid   int
	start uint64
	name  string
}

// procStartTime reads field 22 of /proc/pid/stat.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// record appends a started process to the pids file.
func record(pid int, name string) error {
	start, err := procStartTime(pid)
	if err != nil {
		return fmt.Errorf("record pid %d: %w", pid, err)
	}
	f, err := os.OpenFile(pidsFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("record pid %d: %w", pid, err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%d %d %s\n", pid, start, name)
	return err
}

func readTracked() []trackedProc {
	f, err := os.Open(pidsFile)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []trackedProc
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p trackedProc
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %s", &p.pid, &p.start, &p.name); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// alive reports whether the tracked process still runs (and is the same one).
func (p trackedProc) alive() bool {
	start, err := procStartTime(p.pid)
	if err != nil || start != p.start {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	// A zombie waits only for its parent to reap it.
	return err == nil && !strings.Contains(string(data), ") Z ")
}

// killTracked stops every recorded process: SIGTERM, then SIGKILL after grace.
func killTracked(grace time.Duration) []error {
	var errs []error
	procs := readTracked()
	for _, p := range procs {
		if p.alive() {
			_ = syscall.Kill(p.pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(grace)
	for _, p := range procs {
		for p.alive() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if p.alive() {
			if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("kill %s (pid %d): %w", p.name, p.pid, err))
			}
		}
	}
	return errs
}

// resetStateDir empties the state dir, keeping nothing from an earlier lab.
func resetStateDir() error {
	if err := os.RemoveAll(StateDir); err != nil {
		return fmt.Errorf("remove %s: %w", StateDir, err)
	}
	for _, d := range []string{StateDir, filepath.Join(StateDir, "logs"), filepath.Join(StateDir, "bin"), filepath.Join(StateDir, "frr")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// removeTmpDirs removes the control plane's temporary directories that a
// crashed lab left; only directories under os.TempDir() are touched.
func removeTmpDirs() error {
	data, err := os.ReadFile(tmpDirsFile)
	if err != nil {
		return nil
	}
	var errs []error
	for _, d := range strings.Fields(string(data)) {
		if filepath.Dir(d) != filepath.Clean(os.TempDir()) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
