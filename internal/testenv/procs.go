package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// deathWrappers writes, for etcd and kube-apiserver, a script that runs the
// real binary with a parent-death signal (util-linux setpriv), so that they
// die with the test binary even when it is killed: envtest starts them
// without one. Without setpriv it returns no paths, and they run as before.
func deathWrappers(bin string) (dir string, paths map[string]string, err error) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return "", nil, nil
	}
	dir, err = os.MkdirTemp("", "herald-testenv-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("make wrapper dir: %w", err)
	}
	paths = map[string]string{}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		p := filepath.Join(dir, name)
		script := fmt.Sprintf("#!/bin/sh\nexec %s --pdeathsig KILL -- %s \"$@\"\n", setpriv, filepath.Join(bin, name))
		if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
			return "", nil, errors.Join(fmt.Errorf("write wrapper: %w", err), os.RemoveAll(dir))
		}
		paths[name] = p
	}
	return dir, paths, nil
}

func useDeathWrappers(env *envtest.Environment, paths map[string]string) {
	if paths == nil {
		return
	}
	if env.ControlPlane.Etcd == nil {
		env.ControlPlane.Etcd = &envtest.Etcd{}
	}
	env.ControlPlane.Etcd.Path = paths["etcd"]
	env.ControlPlane.GetAPIServer().Path = paths["kube-apiserver"]
}

// server is an etcd or kube-apiserver process of this control plane.
type server struct {
	name string
	pid  int
	argv []string
	cmd  *exec.Cmd // set when this package started it, not envtest
}

// findServers returns this control plane's etcd and kube-apiserver, etcd
// first: children of this process whose command line names one of its
// directories.
func (e *Env) findServers() ([]server, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self := strconv.Itoa(os.Getpid())
	var found []server
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 2 || f[1] != self || f[0] == "Z" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		name := filepath.Base(argv[0])
		if (name == "etcd" || name == "kube-apiserver") && slicesContainsAny(argv, e.TempDirs()) {
			found = append(found, server{name: name, pid: pid, argv: argv})
		}
	}
	if len(found) != 2 {
		return nil, fmt.Errorf("found %d control-plane processes, want etcd and kube-apiserver", len(found))
	}
	if found[0].name != "etcd" {
		found[0], found[1] = found[1], found[0]
	}
	return found, nil
}

func slicesContainsAny(argv, dirs []string) bool {
	for _, a := range argv {
		for _, d := range dirs {
			if strings.Contains(a, d) {
				return true
			}
		}
	}
	return false
}

// Outage stops kube-apiserver and etcd, as an operator stopping the control
// plane would (SIGTERM, then SIGKILL after 10 s), and returns a function
// that starts them again on the same data, certificates and ports, and
// waits until the apiserver is ready. Processes it starts die with the test
// binary, and Stop stops them.
func (e *Env) Outage() (restart func(ctx context.Context) error, err error) {
	servers, err := e.findServers()
	if err != nil {
		return nil, err
	}
	for i := len(servers) - 1; i >= 0; i-- { // the apiserver first
		if err := stopProcess(servers[i]); err != nil {
			return nil, err
		}
	}
	e.restarted = nil
	return func(ctx context.Context) error {
		for _, s := range servers {
			cmd := exec.Command(s.argv[0], s.argv[1:]...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("restart %s: %w", s.name, err)
			}
			e.restarted = append(e.restarted, cmd)
			// Reap it when it ends; it ends when stopped (stopRestarted), so
			// its exit status says nothing.
			go func() { _ = cmd.Wait() }()
			if s.name == "etcd" {
				if err := WaitHTTP(ctx, etcdHealthURL(s.argv)); err != nil {
					return fmt.Errorf("wait for etcd: %w", err)
				}
			}
		}
		return e.waitReady(ctx)
	}, nil
}

// stopProcess ends s and waits until it is gone (envtest, its parent, reaps
// it).
func stopProcess(s server) error {
	p, err := os.FindProcess(s.pid)
	if err != nil {
		return fmt.Errorf("find %s: %w", s.name, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", s.name, err)
	}
	gone := func() bool {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(s.pid), "stat"))
		if err != nil {
			return true
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		return len(f) > 0 && f[0] == "Z"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) { return gone(), nil })
	if err == nil {
		return nil
	}
	if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", s.name, err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := wait.PollUntilContextCancel(ctx2, 50*time.Millisecond, true, func(context.Context) (bool, error) { return gone(), nil }); err != nil {
		return fmt.Errorf("%s (pid %d) did not stop: %w", s.name, s.pid, err)
	}
	return nil
}

func etcdHealthURL(argv []string) string {
	for _, a := range argv {
		if v, ok := strings.CutPrefix(a, "--listen-client-urls="); ok {
			return strings.Split(v, ",")[0] + "/health"
		}
	}
	return ""
}

// WaitHTTP polls url until it answers 200 OK or ctx ends.
func WaitHTTP(ctx context.Context, url string) error {
	if url == "" {
		return errors.New("no URL to check")
	}
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// waitReady waits until the apiserver answers /readyz.
func (e *Env) waitReady(ctx context.Context) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		body, err := e.restClient.Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// stopRestarted stops what Outage started.
func (e *Env) stopRestarted() error {
	var errs []error
	for i := len(e.restarted) - 1; i >= 0; i-- {
		cmd := e.restarted[i]
		if err := stopProcess(server{name: filepath.Base(cmd.Path), pid: cmd.Process.Pid}); err != nil {
			errs = append(errs, err)
		}
	}
	e.restarted = nil
	return errors.Join(errs...)
}
