package e2etest

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
)

// TestBGP runs the BGP scenarios on one lab, with FRR as the router and
// config/samples (pool "routed", peer "tor" with a TCP MD5 password, and an
// advertisement with communities to "tor" only). Routes are checked where
// traffic follows them: in the router's kernel table.
func TestBGP(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	l := upWithSamples(ctx, t)
	s := &bgpSuite{l: l}
	t.Run("ECMP over three nodes", s.ecmp)
	t.Run("communities", s.communities)
	t.Run("local traffic follows endpoints", s.localTraffic)
	t.Run("deleting the Service withdraws the route", s.withdraw)
	t.Run("SIGTERM removes the next hop within 1s", s.sigterm)
	t.Run("cordon: GRACEFUL_SHUTDOWN, then withdrawn", s.cordon)
	t.Run("restarting FRR brings every route back", s.routerRestart)
	t.Run("IPv6 end to end", s.ipv6)
	t.Run("nodeSelectors", s.nodeSelectors)
	t.Run("MD5: a wrong password keeps the session down", s.md5)
	t.Run("iBGP local-pref, and the peers filter", s.localPref)
	t.Run("serviceSelectors", s.serviceSelectors)
	t.Run("addressFamilies", s.families)
}

type bgpSuite struct {
	l   *lab.Lab
	seq int
}

func (s *bgpSuite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// service creates a Service from pool with endpoints on nodes (all when
// nil), deleted at cleanup, and returns it with its IP.
func (s *bgpSuite) service(t *testing.T, pool string, nodes []lab.Node, opts ...lab.ServiceOption) (*corev1.Service, netip.Addr) {
	t.Helper()
	ctx := s.ctx(t)
	s.seq++
	name := fmt.Sprintf("bgp-%d", s.seq)
	if nodes == nil {
		nodes = s.l.Nodes
	}
	svc, err := s.l.CreateService(ctx, "bgp", name, nodes, append([]lab.ServiceOption{lab.WithPool(pool)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.l.DeleteService(context.Background(), svc) })
	svc, err = s.l.WaitForIPs(ctx, "bgp", name, 1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return svc, lab.IngressIPs(svc)[0]
}

func (s *bgpSuite) ecmp(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil)
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	served := map[string]int{}
	for _, r := range lab.ProbeN(ctx, lab.UpstreamClientNS, ip, 80, 30, 20*time.Millisecond) {
		if r.Err != nil {
			t.Errorf("curl %s from behind the router: %v", ip, r.Err)
			continue
		}
		served[r.Node]++
	}
	t.Logf("30 connections to %s served by %v", ip, served)
	if len(served) < 2 {
		t.Errorf("connections to %s all went to %v; ECMP should spread them", ip, served)
	}
}

func (s *bgpSuite) communities(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil)
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	paths, err := lab.BGPPaths(ctx, netip.PrefixFrom(ip, 32))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("the router has %d paths for %s, want one per node: %+v", len(paths), ip, paths)
	}
	for _, p := range paths {
		// The sample: "64512:100", and the alias datacenter-east for
		// large:64512:1:2.
		if !slices.Equal(p.Communities, []string{"64512:100"}) || !slices.Equal(p.LargeCommunities, []string{"64512:1:2"}) {
			t.Errorf("path from %s: communities %v, large %v", p.Peer, p.Communities, p.LargeCommunities)
		}
		if p.LocalPref != nil {
			t.Errorf("path from %s carries local-pref %d over eBGP", p.Peer, *p.LocalPref)
		}
	}
}

func (s *bgpSuite) localTraffic(t *testing.T) {
	ctx := s.ctx(t)
	n := s.l.Nodes
	svc, ip := s.service(t, "routed", n[1:2], lab.LocalTraffic())
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n[1]), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.l.SetEndpoints(ctx, svc, []lab.Node{n[0], n[2]}); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n[0], n[2]), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, r := range lab.ProbeN(ctx, lab.UpstreamClientNS, ip, 80, 10, 20*time.Millisecond) {
		if r.Err != nil || r.Node == n[1].Name {
			t.Errorf("curl %s = %q, %v; want a node with an endpoint", ip, r.Node, r.Err)
		}
	}
	if err := s.l.SetEndpoints(ctx, svc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, nil, 20*time.Second); err != nil {
		t.Errorf("no endpoint left: %v", err)
	}
}

func (s *bgpSuite) withdraw(t *testing.T) {
	ctx := s.ctx(t)
	svc, ip := s.service(t, "routed", nil)
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.l.DeleteService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	took, err := lab.WaitKernelNextHops(ctx, ip, nil, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("route to %s gone %v after the Service was deleted", ip, took)
}

func (s *bgpSuite) sigterm(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil)
	n := s.l.Nodes
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	took, err := measure.BGPSigterm(ctx, s.l, ip, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM on node3's speaker: its next hop gone from the router's kernel table after %v", took)
	if took > time.Second {
		t.Errorf("the next hop was removed %v after SIGTERM, want at most 1s", took)
	}
}

// cordon cordons node3 while a client behind the router probes: its path
// is tagged GRACEFUL_SHUTDOWN at once and withdrawn only after the
// speakers' graceful-shutdown period (10s), with no failed request.
func (s *bgpSuite) cordon(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil)
	n := s.l.Nodes
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	p, err := s.l.StartProber(ctx, lab.UpstreamClientNS, ip, 80, lab.ProberOptions{Duration: 40 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cordon := measure.Leaves[0]
	from := measure.Hops(ip, n[2])[0]
	t.Cleanup(func() { _ = s.l.EditNode(context.Background(), n[2].Name, cordon.Undo) })
	start := time.Now()
	if err := s.l.EditNode(ctx, n[2].Name, cordon.Apply); err != nil {
		t.Fatal(err)
	}
	path := func() (lab.BGPPath, bool) {
		paths, _ := lab.BGPPaths(ctx, netip.PrefixFrom(ip, 32))
		i := slices.IndexFunc(paths, func(p lab.BGPPath) bool { return p.Peer == from })
		if i < 0 {
			return lab.BGPPath{}, false
		}
		return paths[i], true
	}
	if err := lab.PollUntil(ctx, 20*time.Millisecond, 5*time.Second, func() (bool, error) {
		p, ok := path()
		// FRR names the well-known community in camel case in JSON.
		return ok && slices.ContainsFunc(p.Communities, func(c string) bool {
			return c == "gracefulShutdown" || c == "graceful-shutdown" || c == "65535:0"
		}), nil
	}); err != nil {
		p, _ := path()
		t.Fatalf("node3's path never carried GRACEFUL_SHUTDOWN: %v; last seen %+v", err, p)
	}
	tagged := time.Since(start)
	if err := lab.PollUntil(ctx, 50*time.Millisecond, 30*time.Second, func() (bool, error) { _, ok := path(); return !ok, nil }); err != nil {
		t.Fatalf("node3's path was never withdrawn: %v", err)
	}
	withdrawn := time.Since(start)
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n[:2]...), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	seen, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cordon of node3: its path tagged GRACEFUL_SHUTDOWN %v after, withdrawn %v after; %d of %d requests from behind the router failed",
		tagged, withdrawn, seen.Failed(), len(seen.Probes))
	if tagged > time.Second || withdrawn < 9*time.Second || seen.Failed() != 0 {
		t.Errorf("want the tag within 1s, the withdrawal after the 10s period, and no failed request")
	}
	if err := s.l.EditNode(ctx, n[2].Name, cordon.Undo); err != nil {
		t.Fatal(err)
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, n...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

func (s *bgpSuite) routerRestart(t *testing.T) {
	ctx := s.ctx(t)
	var ips []netip.Addr
	for range 3 {
		_, ip := s.service(t, "routed", nil)
		ips = append(ips, ip)
	}
	for _, ip := range ips {
		if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := s.l.RestartRouter(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ip := range ips {
		if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("every route back %v after FRR was restarted", time.Since(start))
}

func (s *bgpSuite) ipv6(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "routed", nil, lab.IPv6Only())
	if !ip.Is6() {
		t.Fatalf("IPv6 Service got %s", ip)
	}
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes...), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := lab.Probe(ctx, lab.UpstreamClientNS, ip, 80); r.Err != nil {
		t.Errorf("curl [%s] from behind the router: %v", ip, r.Err)
	}
}

func (s *bgpSuite) nodeSelectors(t *testing.T) {
	ctx := s.ctx(t)
	c := s.l.Env.Client
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "node1-only"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.96/28"}}}
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "node1-only"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPools: []string{"node1-only"},
		NodeSelectors:  []metav1.LabelSelector{{MatchLabels: map[string]string{"kubernetes.io/hostname": "node1"}}},
	}}
	create(t, c, pool, adv)
	_, ip := s.service(t, "node1-only", nil)
	if _, err := lab.WaitKernelNextHops(ctx, ip, measure.Hops(ip, s.l.Nodes[0]), 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

// md5: a session whose password the router does not share stays down, and
// the node's record says why; with the right password it comes up.
func (s *bgpSuite) md5(t *testing.T) {
	ctx := s.ctx(t)
	c := s.l.Env.Client
	peer := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor6"}, Spec: v1beta1.BGPPeerSpec{
		MyASN: lab.NodeASN, PeerASN: ptr.To[v1beta1.ASN](lab.RouterASN), PeerAddress: lab.RouterLAN6.String(),
		Password: "not-the-password",
	}}
	create(t, c, peer)
	var line string
	err := waitErr(ctx, 40*time.Second, func() error {
		st, err := s.l.HeraldNode(ctx, "node1")
		if err != nil {
			return err
		}
		for _, p := range st.BGPPeers {
			if p.Name == "tor6" {
				line = p.State + ": " + p.LastError
			}
		}
		if !strings.Contains(strings.ToLower(line), "md5") {
			return fmt.Errorf("node1's HeraldNode says %q of tor6", line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node1's record: %s", line)
	if n, err := lab.BGPNeighbors(ctx); err != nil || state(n, s.l.Nodes[0].IPv6) == "Established" {
		t.Errorf("a session with the wrong password is up: %v %v", n, err)
	}
	if !strings.Contains(s.l.Speaker(1).LogTail(400), "tor6") {
		t.Errorf("node1's log does not name the failing session tor6")
	}
	// The right password, from the sample's Secret.
	// The controller writes the peer's Ready condition meanwhile, so the
	// object read at create is stale: read it again on a conflict.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(peer), peer); err != nil {
			return err
		}
		peer.Spec.Password = ""
		peer.Spec.PasswordSecret = &v1beta1.SecretRef{Name: "tor-bgp-password", Namespace: lab.HeraldNamespace}
		return c.Update(ctx, peer)
	}); err != nil {
		t.Fatal(err)
	}
	err = waitErr(ctx, 40*time.Second, func() error {
		n, err := lab.BGPNeighbors(ctx)
		if err != nil || state(n, s.l.Nodes[0].IPv6) != "Established" {
			return fmt.Errorf("neighbors %v, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// localPref turns the router's IPv6 sessions into iBGP: an advertisement
// with localPref to that peer only must reach the router with local-pref
// over those sessions, and the sample's advertisement, whose peers list
// names "tor" only, must not.
func (s *bgpSuite) localPref(t *testing.T) {
	ctx := s.ctx(t)
	c := s.l.Env.Client
	if err := lab.VtyshConfig(ctx, fmt.Sprintf("router bgp %d", lab.RouterASN), "neighbor nodes6 remote-as internal"); err != nil {
		t.Fatal(err)
	}
	var peer v1beta1.BGPPeer
	if err := c.Get(ctx, client.ObjectKey{Name: "tor6"}, &peer); client.IgnoreNotFound(err) != nil {
		t.Fatal(err)
	} else if err == nil {
		if err := c.Delete(ctx, &peer); err != nil {
			t.Fatal(err)
		}
	}
	ibgp := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor6-ibgp"}, Spec: v1beta1.BGPPeerSpec{
		MyASN: lab.RouterASN, PeerASN: ptr.To[v1beta1.ASN](lab.RouterASN), PeerAddress: lab.RouterLAN6.String(),
		PasswordSecret: &v1beta1.SecretRef{Name: "tor-bgp-password", Namespace: lab.HeraldNamespace},
	}}
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "preferred"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPools: []string{"routed"}, LocalPref: ptr.To[int64](250), Peers: []string{"tor6-ibgp"},
	}}
	create(t, c, ibgp, adv)
	_, ip := s.service(t, "routed", nil)
	want := map[netip.Addr]bool{}
	for _, n := range s.l.Nodes {
		want[n.IPv4], want[n.IPv6] = true, true
	}
	err := waitErr(ctx, 40*time.Second, func() error {
		paths, err := lab.BGPPaths(ctx, netip.PrefixFrom(ip, 32))
		if err != nil {
			return err
		}
		got := map[netip.Addr]bool{}
		for _, p := range paths {
			got[p.Peer] = true
			switch {
			case p.Peer.Is6() && (p.LocalPref == nil || *p.LocalPref != 250):
				return fmt.Errorf("iBGP path from %s: local-pref %v, want 250", p.Peer, p.LocalPref)
			case p.Peer.Is6() && len(p.Communities) > 0:
				return fmt.Errorf("path from %s carries %v: the sample's advertisement goes to tor only", p.Peer, p.Communities)
			case p.Peer.Is4() && p.LocalPref != nil:
				return fmt.Errorf("eBGP path from %s carries local-pref %d", p.Peer, *p.LocalPref)
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("paths from %v, want one from each node address %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
		t.Cleanup(func() { _ = c.Delete(context.Background(), o) })
	}
}

func state(ns []lab.BGPNeighbor, addr netip.Addr) string {
	for _, n := range ns {
		if n.Address == addr {
			return n.State
		}
	}
	return ""
}

// waitErr polls f every 200 ms until it returns nil, and returns its last
// error after timeout.
func waitErr(ctx context.Context, timeout time.Duration, f func() error) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil && last != nil {
		return last
	}
	return err
}
