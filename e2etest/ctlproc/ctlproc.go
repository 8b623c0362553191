// Package ctlproc runs a built controller binary as a child process for the
// benchmarks and soaks that drive it against their own apiserver, with its
// output in a log file.
package ctlproc

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Proc is a running controller.
type Proc struct {
	cmd  *exec.Cmd
	done chan error
}

// Start runs bin with args, appending its stdout and stderr to logPath.
func Start(bin, logPath string, args ...string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open controller log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start controller: %w", err)
	}
	p := &Proc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	return p, nil
}

// Pid is the controller's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop interrupts the controller, as a rollout would, and kills it if it
// has not exited within 20 s.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
