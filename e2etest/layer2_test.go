package e2etest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
	"github.com/heraldlb/herald/internal/election"
)

// TestLayer2 runs the Layer 2 scenarios on one lab: config/samples, whose
// pool "lan" is announced on eth0, and a pool announced on eth1 only.
// Every answer is checked against internal/election's winner, so the lab
// also proves that the speakers agree with the pure core.
func TestLayer2(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	l := upWithSamples(ctx, t)
	if err := createEth1Pool(ctx, l); err != nil {
		t.Fatal(err)
	}
	for _, fam := range []struct {
		name string
		opts []lab.ServiceOption
	}{{"IPv4", nil}, {"IPv6", []lab.ServiceOption{lab.IPv6Only()}}} {
		t.Run(fam.name, func(t *testing.T) {
			s := &l2suite{l: l, fam: fam.opts, prefix: strings.ToLower(fam.name)}
			t.Run("one winner answers and serves", s.oneWinner)
			t.Run("others never answer", s.othersSilent)
			t.Run("local traffic follows endpoints", s.localTraffic)
			t.Run("interfaces restriction", s.interfaces)
			t.Run("failover on link down", s.linkDown)
			t.Run("graceful handover", s.handover)
			t.Run("cordon, taint and exclude hand over", s.leave)
			t.Run("partition and heal", s.partition)
		})
	}
	t.Run("30 Services spread over 3 nodes", func(t *testing.T) { spread(ctx, t, l) })
}

type l2suite struct {
	l      *lab.Lab
	fam    []lab.ServiceOption
	prefix string
	seq    int
}

func (s *l2suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// service creates a Service from pool with endpoints on nodes (all when
// none), waits for its IP, and returns the IP.
func (s *l2suite) service(t *testing.T, pool string, nodes []lab.Node, opts ...lab.ServiceOption) (string, netip.Addr) {
	t.Helper()
	ctx := s.ctx(t)
	s.seq++
	name := fmt.Sprintf("%s-%d", s.prefix, s.seq)
	if nodes == nil {
		nodes = s.l.Nodes
	}
	opts = append(append([]lab.ServiceOption{lab.WithPool(pool)}, s.fam...), opts...)
	svc, err := s.l.CreateService(ctx, "l2", name, nodes, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Give the IP back to the pool: the suite uses more IPs than one pool
	// has.
	t.Cleanup(func() { _ = s.l.DeleteService(context.Background(), svc) })
	svc, err = s.l.WaitForIPs(ctx, "l2", name, 1, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return name, lab.IngressIPs(svc)[0]
}

// owned creates a Service from pool "lan" and waits until its winner
// answers; it returns the winner and the runner-up.
func (s *l2suite) owned(t *testing.T) (ctx context.Context, ip netip.Addr, w, next string) {
	t.Helper()
	ctx = s.ctx(t)
	_, ip = s.service(t, "lan", nil)
	rank := election.Rank(ip, names(s.l.Nodes))
	w, next = rank[0], rank[1]
	if _, err := s.l.WaitAnsweredBy(ctx, lab.ClientNS, ip, w, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return ctx, ip, w, next
}

func names(nodes []lab.Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Name)
	}
	return out
}

// winner is who internal/election says answers for ip among candidates.
func winner(ip netip.Addr, candidates []string) string {
	w, _ := election.Winner(ip, candidates)
	return w
}

func (s *l2suite) oneWinner(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "lan", nil)
	want := winner(ip, names(s.l.Nodes))
	if _, err := s.l.WaitAnsweredBy(ctx, lab.ClientNS, ip, want, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The standard tools see the same single MAC.
	macs, err := lab.ToolAnswers(ctx, lab.ClientNS, ip)
	if wantMAC := lab.NodeMAC(s.l.NodeIndex(want)).String(); err != nil || len(macs) != 1 || macs[0] != wantMAC {
		t.Errorf("arping/ndisc6 for %s: %v, %v; want only %s (%s)", ip, macs, err, wantMAC, want)
	}
	if r := lab.Probe(ctx, lab.ClientNS, ip, 80); r.Err != nil || r.Node != want {
		t.Errorf("curl %s = %q, %v; want served by %s", ip, r.Node, r.Err, want)
	}
}

// othersSilent captures every ARP reply or NA for the IP on the client's
// link while the client asks ten times: all must come from the winner.
func (s *l2suite) othersSilent(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "lan", nil)
	want := winner(ip, names(s.l.Nodes))
	if _, err := s.l.WaitAnsweredBy(ctx, lab.ClientNS, ip, want, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p, err := s.l.StartProber(ctx, lab.ClientNS, ip, 80, lab.ProberOptions{Watch: true, NoProbe: true, Duration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := lab.NeighborAnswers(ctx, ip); err != nil {
			t.Fatal(err)
		}
	}
	seen, err := p.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(seen.Announcements) < 10 {
		t.Fatalf("captured %d answers for 10 requests", len(seen.Announcements))
	}
	for _, a := range seen.Announcements {
		if got := s.l.NodeByMAC(mustMAC(t, a.MAC)); got != want {
			t.Errorf("%s answered for %s (%s); only %s may", got, ip, a.Proto, want)
		}
	}
}

func (s *l2suite) localTraffic(t *testing.T) {
	ctx := s.ctx(t)
	all := names(s.l.Nodes)
	// Put the only endpoint on a node that is not the hash winner, so the
	// move is visible.
	name, ip := s.service(t, "lan", s.l.Nodes[:1], lab.LocalTraffic())
	first := election.Rank(ip, all)[1]
	svc, err := s.l.Service(ctx, "l2", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{first, election.Rank(ip, all)[2]} {
		if err := s.l.SetEndpoints(ctx, svc, []lab.Node{s.l.Nodes[s.l.NodeIndex(target)-1]}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.l.WaitAnsweredBy(ctx, lab.ClientNS, ip, target, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := lab.Probe(ctx, lab.ClientNS, ip, 80); r.Err != nil || r.Node != target {
			t.Errorf("curl %s = %q, %v; want %s, the node with the endpoint", ip, r.Node, r.Err, target)
		}
	}
}

// interfaces: the eth1-only pool lies in the LAN's subnet, but its
// advertisement names eth1, so the LAN client gets no answer and the
// second-LAN client gets the winner's eth1 MAC.
func (s *l2suite) interfaces(t *testing.T) {
	ctx := s.ctx(t)
	_, ip := s.service(t, "eth1-only", nil)
	want := winner(ip, names(s.l.Nodes))
	if _, err := s.l.WaitAnsweredBy(ctx, lab.Client2NS, ip, want, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	macs, err := lab.NeighborAnswersFrom(ctx, lab.Client2NS, ip)
	if err != nil || len(macs) != 1 || macs[0].String() != lab.NodeLAN2MAC(s.l.NodeIndex(want)).String() {
		t.Errorf("second-LAN answers %v, %v; want %s's eth1 MAC", macs, err, want)
	}
	if got, err := s.l.AnsweredBy(ctx, lab.ClientNS, ip); err != nil || len(got) != 0 {
		t.Errorf("on eth0's LAN, %s is answered by %v (%v); the advertisement allows eth1 only", ip, got, err)
	}
	if r := lab.Probe(ctx, lab.Client2NS, ip, 80); r.Err != nil || r.Node != want {
		t.Errorf("curl %s from the second LAN = %q, %v; want %s", ip, r.Node, r.Err, want)
	}
}

// linkDown sets the winner's LAN link down while the client probes every
// 50 ms, and measures the outage until the runner-up serves.
func (s *l2suite) linkDown(t *testing.T) {
	ctx, ip, w, next := s.owned(t)
	outage, err := measure.LinkDown(ctx, s.l, ip, s.l.NodeIndex(w), next)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("link down on %s: outage %v until %s served %s", w, outage, next, ip)
	// The benchmark judges the median over ten trials; one trial must stay
	// within its maximum.
	if outage > 1500*time.Millisecond {
		t.Errorf("outage %v after the winner's link went down", outage)
	}
}

// handover stops the winner's speaker with SIGTERM while the client
// probes: no probe may fail, and the new owner is announced at once.
func (s *l2suite) handover(t *testing.T) {
	ctx, ip, w, next := s.owned(t)
	r, err := measure.Handover(ctx, s.l, ip, s.l.NodeIndex(w), next)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM on %s's speaker: %d failed probes of %d; first gratuitous naming %s %v after the signal, first from %s itself %v",
		w, r.Failed, r.Probes, next, r.FirstGratuitous, next, r.FirstFromNewOwner)
	if r.Failed != 0 {
		t.Errorf("%d probes failed during a graceful handover", r.Failed)
	}
	if r.FirstGratuitous > time.Second || r.FirstFromNewOwner > time.Second {
		t.Errorf("the new owner was announced %v after the signal, and announced itself %v after", r.FirstGratuitous, r.FirstFromNewOwner)
	}
}

// leave cordons the winner's node, taints it out-of-service, or labels it
// excluded, while the client probes: no probe may fail, and clients are
// pointed at the new owner at once.
func (s *l2suite) leave(t *testing.T) {
	for _, how := range measure.Leaves {
		t.Run(how.Name, func(t *testing.T) {
			ctx, ip, w, next := s.owned(t)
			r, err := measure.LeaveNode(ctx, s.l, ip, s.l.NodeIndex(w), next, how)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s of %s: %d failed probes of %d (%d in flight at the switch); first gratuitous naming %s %v after, first from %s itself %v",
				how.Name, w, r.Failed, r.Probes, r.Straddled, next, r.FirstGratuitous, next, r.FirstFromNewOwner)
			// A connection in flight at the instant the client switches MACs
			// is reset by the new node (see measure.HandoverResult); the
			// benchmark counts those. Any other failure is an IP that went
			// unanswered or unserved.
			if r.Failed != r.Straddled || r.Straddled > 1 {
				t.Errorf("%d probes failed while %s's node left, %d of them in flight at the switch: %s", r.Failed, w, r.Straddled, strings.Join(r.Failures, "; "))
			}
			if r.FirstGratuitous > time.Second {
				t.Errorf("the new owner was announced %v after the %s", r.FirstGratuitous, how.Name)
			}
		})
	}
}

// partition cuts the winner off from the other nodes, not from the client:
// the majority moves the IP, the cut-off node goes quiet; after the heal,
// exactly one node answers within 2 s.
func (s *l2suite) partition(t *testing.T) {
	ctx, ip, w, next := s.owned(t)
	heal, err := measure.Partition(ctx, s.l, ip, s.l.NodeIndex(w), next)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("partition of %s healed: one responder (%s) %v after the heal", w, w, heal)
	if heal > 2*time.Second {
		t.Errorf("%v after the heal until exactly one node answered; want at most 2s", heal)
	}
}

// spread: 30 Services over 3 nodes, each node wins at least 5, and each IP
// is answered by the node internal/election names.
func spread(ctx context.Context, t *testing.T, l *lab.Lab) {
	all := names(l.Nodes)
	count := map[string]int{}
	var ips []netip.Addr
	for i := range 30 {
		name := fmt.Sprintf("spread-%d", i)
		svc, err := l.CreateService(ctx, "spread", name, l.Nodes, lab.WithPool("lan"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.DeleteService(context.Background(), svc) })
		svc, err = l.WaitForIPs(ctx, "spread", name, 1, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		ips = append(ips, lab.IngressIPs(svc)[0])
	}
	for _, ip := range ips {
		w := winner(ip, all)
		if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, w, 10*time.Second); err != nil {
			t.Error(err)
			continue
		}
		count[w]++
	}
	t.Logf("owners: %v", count)
	for _, n := range all {
		if count[n] < 5 {
			t.Errorf("%s owns %d of 30 IPs, want at least 5 (%v)", n, count[n], count)
		}
	}
}

// createEth1Pool adds a pool in the LAN's subnet whose L2Advertisement
// names eth1 only.
func createEth1Pool(ctx context.Context, l *lab.Lab) error {
	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: "eth1-only"},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{
			v1beta1.AddressRange(lab.Eth1Pool4.String()), v1beta1.AddressRange(lab.Eth1Pool6.String()),
		}},
	}
	adv := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Name: "eth1-only"},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"eth1-only"}, Interfaces: []string{lab.LAN2Iface}},
	}
	if err := l.Env.Client.Create(ctx, pool); err != nil {
		return err
	}
	return l.Env.Client.Create(ctx, adv)
}

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	hw, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return hw
}
