// Command burstbench measures the controller against a real apiserver: a
// burst of LoadBalancer Services compared with a minimal client, a restart
// on a settled cluster, and a mass delete. It prints the figures and whether
// each target is met.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"

	"github.com/heraldlb/herald/e2etest/burst"
)

func main() {
	services := flag.Int("services", 2000, "Services to create")
	clients := flag.Int("clients", 16, "concurrent clients")
	rounds := flag.Int("rounds", 3, "rounds, each on fresh apiservers; times are judged by their median")
	pprof := flag.String("controller-pprof", "0", "address where the controller serves pprof, to profile it during the burst")
	apiProfile := flag.String("apiserver-profile-dir", "", "directory for CPU profiles of the apiserver during the floor and the burst")
	ctlBin := flag.String("controller-bin", "", "a controller binary to measure, such as one built from another commit; default: build ./controller")
	var ctlArgs stringList
	flag.Var(&ctlArgs, "controller-flag", "an extra controller flag, such as --workers=4 (repeatable)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin := *ctlBin
	if bin == "" {
		built, err := buildController()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(filepath.Dir(built))
		bin = built
	}
	rep, err := burst.Run(ctx, burst.Options{Services: *services, Clients: *clients, Rounds: *rounds, ControllerBin: bin, PprofAddr: *pprof, APIServerProfileDir: *apiProfile, ControllerArgs: ctlArgs, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "burst:", err)
		os.Exit(1)
	}
	fmt.Print(rep.Summary())
	if !rep.Met() {
		os.Exit(1)
	}
}

func buildController() (string, error) {
	dir, err := os.MkdirTemp("", "herald-bench-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "controller")
	cmd := exec.Command("go", "build", "-o", bin, "./controller")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build controller: %w", err)
	}
	return bin, nil
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
