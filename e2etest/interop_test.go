package e2etest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/gobgprouter"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
)

// TestBGPInterop runs Herald against a second router implementation, a
// GoBGP server (labgobgp) beside FRR, speaking iBGP with every node; breaks
// its sessions in the ways networks do and checks that each leaves a clear
// reason and heals within the hold time; and peers FRR with the nodes
// through a listen range instead of per-node neighbours.
func TestBGPInterop(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	l := upWith(ctx, t, lab.Options{GoBGPRouter: true}, nil)
	s := &interopSuite{bgpSuite: bgpSuite{l: l}}
	// The sample's advertisement goes to "tor" only; this one to the
	// second router's peers, with attributes of its own.
	create(t, l.Env.Client, &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "gobgp"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPools: []string{"routed"}, LocalPref: ptr.To[int64](150),
		Communities: []v1beta1.CommunityOrAlias{"64512:200", "large:64513:7:8"}, Peers: []string{lab.GoBGPPeer4, lab.GoBGPPeer6},
	}})
	t.Run("GoBGP: paths from every node, attributes, withdrawal", s.paths)
	t.Run("GoBGP restart: a reason, then back within the hold time", s.restart)
	t.Run("hold timer expiry: a reason, then back within the hold time", s.holdExpiry)
	t.Run("MD5 mismatch on the router: a reason, then back within the hold time", s.md5Mismatch)
	t.Run("FRR listen range: dynamic neighbours while Herald dials", s.listenRange)
}

type interopSuite struct {
	bgpSuite
}

func (s *interopSuite) paths(t *testing.T) {
	ctx := s.ctx(t)
	svc, _ := s.service(t, "routed", nil, lab.DualStack())
	svc, err := s.l.WaitForIPs(ctx, svc.Namespace, svc.Name, 2, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ips := lab.IngressIPs(svc)
	err = waitErr(ctx, 30*time.Second, func() error {
		paths, err := lab.GoBGPPaths(ctx)
		if err != nil {
			return err
		}
		return checkGoBGPPaths(paths, ips, s.l.Nodes)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.l.DeleteService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = waitErr(ctx, 20*time.Second, func() error {
		paths, err := lab.GoBGPPaths(ctx)
		if err != nil {
			return err
		}
		if left := pathsFor(paths, ips...); len(left) > 0 {
			return fmt.Errorf("the router still holds %d paths for %v: %+v", len(left), ips, left)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GoBGP had every path for %v; all withdrawn %v after the Service was deleted", ips, time.Since(start))
}

// checkGoBGPPaths wants, for each IP, one path from each node over each of
// its sessions (the node's IPv4 and IPv6 address), with the node's address
// of the IP's family as next hop and the advertisement's attributes.
func checkGoBGPPaths(paths []gobgprouter.Path, ips []netip.Addr, nodes []lab.Node) error {
	for _, ip := range ips {
		got := pathsFor(paths, ip)
		for _, n := range nodes {
			hop := measure.Hops(ip, n)[0]
			for _, from := range []netip.Addr{n.IPv4, n.IPv6} {
				i := slices.IndexFunc(got, func(p gobgprouter.Path) bool { return p.Neighbor == from })
				if i < 0 {
					return fmt.Errorf("no path for %s from %s (%s); have %+v", ip, from, n.Name, got)
				}
				if err := checkAttrs(got[i], hop); err != nil {
					return err
				}
			}
		}
		if len(got) != 2*len(nodes) {
			return fmt.Errorf("%d paths for %s, want %d: %+v", len(got), ip, 2*len(nodes), got)
		}
	}
	return nil
}

func checkAttrs(p gobgprouter.Path, hop netip.Addr) error {
	switch {
	case p.NextHop != hop:
		return fmt.Errorf("path for %s from %s: next hop %s, want the node's %s", p.Prefix, p.Neighbor, p.NextHop, hop)
	case !slices.Equal(p.Communities, []string{"64512:200"}) || !slices.Equal(p.LargeCommunities, []string{"64513:7:8"}):
		return fmt.Errorf("path for %s from %s: communities %v, large %v", p.Prefix, p.Neighbor, p.Communities, p.LargeCommunities)
	case p.LocalPref == nil || *p.LocalPref != 150:
		return fmt.Errorf("iBGP path for %s from %s: local-pref %v, want 150", p.Prefix, p.Neighbor, p.LocalPref)
	}
	return nil
}

// pathsFor returns the paths for the host prefixes of ips.
func pathsFor(paths []gobgprouter.Path, ips ...netip.Addr) []gobgprouter.Path {
	var out []gobgprouter.Path
	for _, p := range paths {
		if slices.ContainsFunc(ips, func(ip netip.Addr) bool { return p.Prefix == netip.PrefixFrom(ip, ip.BitLen()) }) {
			out = append(out, p)
		}
	}
	return out
}
