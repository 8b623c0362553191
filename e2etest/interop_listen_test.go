package e2etest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
)

// listenRange replaces FRR's per-node IPv4 neighbours with a listen range
// for the nodes' subnet in the same peer-group (with its password): the
// nodes still dial, and FRR makes a dynamic neighbour of each connection.
// Every route comes back through every node, and FRR's neighbours are the
// dynamic ones.
func (s *interopSuite) listenRange(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil)
	hops := measure.Hops(ip, s.l.Nodes...)
	if _, err := lab.WaitKernelNextHops(ctx, ip, hops, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	bgp := fmt.Sprintf("router bgp %d", lab.RouterASN)
	var static, restore []string
	for _, n := range s.l.Nodes {
		static = append(static, "no neighbor "+n.IPv4.String())
		restore = append(restore, "neighbor "+n.IPv4.String()+" peer-group nodes4")
	}
	listen := "bgp listen range " + lab.LANPrefix4.String() + " peer-group nodes4"
	t.Cleanup(func() {
		_ = lab.VtyshConfig(context.Background(), append([]string{bgp, "no " + listen}, restore...)...)
	})
	start := time.Now()
	if err := lab.VtyshConfig(ctx, append(append([]string{bgp}, static...), listen)...); err != nil {
		t.Fatal(err)
	}
	// Deleting a neighbour withdraws its routes; the route must come back
	// through every node over the dynamic neighbours.
	err := waitErr(ctx, 60*time.Second, func() error {
		n, err := dynamicNeighbors(ctx)
		if err != nil {
			return err
		}
		if n != len(s.l.Nodes) {
			return fmt.Errorf("%d dynamic neighbours established, want %d", n, len(s.l.Nodes))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, hops, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("every node back as a dynamic neighbour, route to %s via %v, %v after the listen range replaced the neighbours", ip, hops, time.Since(start))
	if r := lab.Probe(ctx, lab.UpstreamClientNS, ip, 80); r.Err != nil {
		t.Errorf("curl %s from behind the router: %v", ip, r.Err)
	}
}

// dynamicNeighbors counts FRR's established neighbours that a listen range
// made.
func dynamicNeighbors(ctx context.Context) (int, error) {
	ns, err := lab.BGPNeighbors(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range ns {
		if x.Dynamic && x.State == "Established" {
			n++
		}
	}
	return n, nil
}
