package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
)

// pprofAddr is where each speaker serves pprof in its node's namespace,
// in the heap mode.
const pprofAddr = "127.0.0.1:39061"

// pprofSpeakerArgs are the lab's speaker flags with pprof on loopback.
func pprofSpeakerArgs(n lab.Node, kubeconfig string) []string {
	return append(lab.DefaultSpeakerArgs(n, kubeconfig), "--pprof-bind-address="+pprofAddr)
}

// heapProfiles advertises BGP Services in steps up to each count, and at
// each step, once the router has every route, records every speaker's RSS
// and saves node1's heap profile in dir with its `go tool pprof -top`.
func heapProfiles(ctx context.Context, l *lab.Lab, r *report, counts []int, dir string) error {
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "bench-bgp"},
		Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"bench-bgp"}, Peers: []string{"tor"}}}
	if _, err := loadServices(ctx, l, "bench-bgp", lab.BenchBGPPool6, adv, "bgp-many", counts[0], 15*time.Minute); err != nil {
		return err
	}
	for i, n := range counts {
		if i > 0 {
			if err := createRange(ctx, l, "bgp-many", "bench-bgp", counts[i-1], n, lab.IPv6Only()); err != nil {
				return err
			}
			if err := waitAllIPs(ctx, l, "bgp-many", n, 15*time.Minute); err != nil {
				return err
			}
		}
		if err := waitRoutes(ctx, l, n, 15*time.Minute); err != nil {
			return err
		}
		if err := heapStep(ctx, l, r, n, dir); err != nil {
			return err
		}
	}
	return nil
}

// heapStep lets the speakers settle, then records their RSS and node1's
// heap profile at n routes.
func heapStep(ctx context.Context, l *lab.Lab, r *report, n int, dir string) error {
	// Settled: the burst's garbage is collected and the RIB is complete;
	// a profile mid-burst would count transient allocations.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
	}
	stats, err := speakerStats(l)
	if err != nil {
		return err
	}
	r.logf("BGP %d routes, settled: %s", n, costLine(make([]procStat, len(stats)), stats))
	file := filepath.Join(dir, fmt.Sprintf("speaker-heap-%d.pb.gz", n))
	if err := saveURL(ctx, lab.HTTPClientIn(l.Nodes[0].Netns), "http://"+pprofAddr+"/debug/pprof/heap?gc=1", file); err != nil {
		return err
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-inuse_space", "-nodecount=25", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof %s: %w: %s", file, err, top)
	}
	r.logf("node1 heap at %d routes (%s):\n%s", n, file, strings.TrimSpace(string(top)))
	return nil
}

func saveURL(ctx context.Context, c *http.Client, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("save %s: %w", url, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", url, err)
	}
	return f.Close()
}

// parseCounts reads increasing positive counts separated by commas.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("parse count %q: %w", f, err)
		}
		if n <= 0 || len(out) > 0 && n <= out[len(out)-1] {
			return nil, fmt.Errorf("counts must be positive and increasing: %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}
