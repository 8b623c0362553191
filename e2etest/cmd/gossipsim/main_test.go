package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the simulation at 10 speakers, one kill: every live
// speaker drops the victim, its IPs have one owner each, and no IP ever has
// two.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10 speakers for a few seconds")
	}
	o, err := parseFlags([]string{"-sizes", "10", "-rounds", "1", "-window", "500ms", "-hold", "300ms", "-limit", "10s"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rs, err := simulate(context.Background(), o, "default", 10, &out)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, out.String())
	}
	r := rs[0]
	if !r.complete || r.max > 1 || r.ips == 0 || r.converged <= 0 || r.converged > 10*time.Second {
		t.Errorf("round: complete %v, most owners of an IP %d, IPs %d, converged %v; want complete, at most 1, some IPs, within the limit\n%s", r.complete, r.max, r.ips, r.converged, out.String())
	}
	if !strings.Contains(out.String(), "round 1: killed") {
		t.Errorf("no round printed:\n%s", out.String())
	}
}

func TestFlagsRejectBadInput(t *testing.T) {
	for _, args := range [][]string{{"-sizes", "2"}, {"-sizes", "x"}, {"-timings", "fast"}, {"-scale", "0"}, {"-loss", "1"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestDiff(t *testing.T) {
	removed, added := diff([]int{1, 2, 4}, []int{2, 3, 4, 5})
	if !slices.Equal(removed, []int{1}) || !slices.Equal(added, []int{3, 5}) {
		t.Errorf("diff: removed %v added %v; want [1] and [3 5]", removed, added)
	}
}
