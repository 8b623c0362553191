package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a process the lab started and will stop.
type Proc struct {
	Name string
	// Netns is the namespace it runs in; empty for the root namespace.
	Netns string
	// Log is the file its stdout and stderr go to.
	Log string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts argv in ns (or the root namespace when ns is empty),
// logging to StateDir/logs/name.log, and records it for cleanup.
func startProc(name, ns string, env []string, argv ...string) (*Proc, error) {
	if ns != "" {
		if !strings.HasPrefix(ns, NSPrefix) {
			return nil, fmt.Errorf("start %s in %q: not a lab namespace", name, ns)
		}
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	logPath := filepath.Join(StateDir, "logs", name+".log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, so a Ctrl-C in the terminal reaches only the
	// lab, which then stops its processes in order. Pdeathsig stops them if
	// the lab is killed outright; the pids file catches what survives.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Netns: ns, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := record(cmd.Process.Pid, name); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return p, nil
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM to the process group, and SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// LogTail returns the last n lines of the process's log.
func (p *Proc) LogTail(n int) string {
	data, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// recordChildren records the children of this process that run one of the
// named executables: etcd and kube-apiserver are started by envtest, not by
// startProc, and must still be found after a crash.
func recordChildren(names ...string) error {
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		var ppid int
		var comm string
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				ppid, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "Name:"); ok {
				comm = strings.TrimSpace(v)
			}
		}
		if ppid != self {
			continue
		}
		for _, n := range names {
			// comm is cut to 15 characters.
			if strings.HasPrefix(n, comm) {
				errs = append(errs, record(pid, n))
			}
		}
	}
	return errors.Join(errs...)
}
