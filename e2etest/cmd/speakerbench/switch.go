package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/internal/election"
)

// switchIPs is how many Services each switch-over round probes.
const switchIPs = 3

// switchOrder is one way to hand Layer 2 announcing from MetalLB to Herald.
type switchOrder struct {
	name string
	// makeFirst lets Herald announce before MetalLB stops; otherwise MetalLB
	// stops first and Herald starts after.
	makeFirst bool
}

var switchOrders = []switchOrder{
	{name: "MetalLB stopped, then Herald's L2Advertisement created (docs/migration.md)"},
	{name: "Herald's L2Advertisement created, then MetalLB stopped once Herald announces", makeFirst: true},
}

// benchSwitch measures the migration's switch-over in Layer 2 mode: MetalLB
// v0.15's speakers (built from its module) announce the Services' IPs, which
// Herald's controller has allocated, while Herald's speakers announce
// nothing; then announcing moves to Herald. Each round probes every IP from
// the LAN client all through the switch and counts the probes that failed.
func benchSwitch(ctx context.Context, l *lab.Lab, r *report, trials int) error {
	if err := deleteHeraldL2(ctx, l); err != nil {
		return err
	}
	ips, err := switchServices(ctx, l)
	if err != nil {
		return err
	}
	if err := l.InstallMetalLB(ctx, "lan", []string{"198.51.100.64/27"}, lab.ClientIface); err != nil {
		return err
	}
	for _, order := range switchOrders {
		var failed []int
		total := 0
		for k := range trials {
			f, probes, moved, err := switchRound(ctx, l, ips, order)
			if err != nil {
				return fmt.Errorf("switch-over (%s), round %d: %w", order.name, k+1, err)
			}
			r.logf("switch-over round %d (%s): %d of %d probes failed over %d IPs, %d of which moved to another node", k+1, order.name, f, probes, len(ips), moved)
			failed, total = append(failed, f), total+f
		}
		r.note("switch-over, %s: %d failed probes in all over %d rounds (per round: %v)", order.name, total, trials, failed)
	}
	return nil
}

// switchServices creates the Services the switch-over probes, and returns
// their IPs.
func switchServices(ctx context.Context, l *lab.Lab) ([]netip.Addr, error) {
	var ips []netip.Addr
	for k := range switchIPs {
		_, ip, err := oneService(ctx, l, "switch", fmt.Sprintf("svc-%d", k), "lan")
		if err != nil {
			return nil, err
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// switchRound starts MetalLB's speakers, waits until they alone answer for
// every IP, switches in the given order while probing, waits until Herald's
// winner answers each IP alone, and returns the failed and total probes,
// and how many IPs Herald's election put on another node than MetalLB's.
// It leaves Herald's Layer 2 announcing off again.
func switchRound(ctx context.Context, l *lab.Lab, ips []netip.Addr, order switchOrder) (failed, probes, moved int, err error) {
	mlb, err := l.StartMetalLBSpeakers(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer lab.StopAll(mlb, 5*time.Second)
	for _, ip := range ips {
		node, err := waitOneAnswerer(ctx, l, ip)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("MetalLB does not announce: %w\n%s", err, mlb[0].LogTail(20))
		}
		if node != election.Rank(ip, nodeNames(l))[0] {
			moved++
		}
	}
	var probers []*lab.Prober
	defer func() {
		for _, p := range probers {
			seen, perr := p.Stop()
			if perr != nil && err == nil {
				err = perr
			}
			failed, probes = failed+seen.Failed(), probes+len(seen.Probes)
		}
	}()
	for _, ip := range ips {
		p, err := l.StartProber(ctx, lab.ClientNS, ip, 80, lab.ProberOptions{Duration: 40 * time.Second})
		if err != nil {
			return 0, 0, moved, err
		}
		probers = append(probers, p)
	}
	time.Sleep(500 * time.Millisecond)
	if err := switchOver(ctx, l, ips, mlb, order); err != nil {
		return 0, 0, moved, err
	}
	for _, ip := range ips {
		if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, election.Rank(ip, nodeNames(l))[0], 15*time.Second); err != nil {
			return 0, 0, moved, fmt.Errorf("after the switch: %w", err)
		}
	}
	// Let the client's neighbour cache run its course on MetalLB's answers.
	time.Sleep(8 * time.Second)
	return 0, 0, moved, deleteHeraldL2(ctx, l)
}

// switchOver moves announcing from MetalLB's speakers to Herald's.
func switchOver(ctx context.Context, l *lab.Lab, ips []netip.Addr, mlb []*lab.Proc, order switchOrder) error {
	if !order.makeFirst {
		lab.StopAll(mlb, 5*time.Second)
	}
	adv := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "lan"},
		Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}, Interfaces: []string{lab.ClientIface}}}
	if err := l.Env.Client.Create(ctx, adv); err != nil {
		return fmt.Errorf("create Herald's L2Advertisement: %w", err)
	}
	if !order.makeFirst {
		return nil
	}
	err := lab.PollUntil(ctx, 20*time.Millisecond, 15*time.Second, func() (bool, error) {
		return heraldAnnouncesAll(ctx, l, ips), nil
	})
	if err != nil {
		return fmt.Errorf("herald does not announce %v: %w", ips, err)
	}
	lab.StopAll(mlb, 5*time.Second)
	return nil
}

// deleteHeraldL2 turns Herald's Layer 2 announcing of pool lan off, and
// waits until no Herald speaker announces anything.
func deleteHeraldL2(ctx context.Context, l *lab.Lab) error {
	adv := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "lan"}}
	if err := client.IgnoreNotFound(l.Env.Client.Delete(ctx, adv)); err != nil {
		return fmt.Errorf("delete Herald's L2Advertisement: %w", err)
	}
	return lab.PollUntil(ctx, 50*time.Millisecond, 15*time.Second, func() (bool, error) {
		for _, n := range l.Nodes {
			st, err := l.HeraldNode(ctx, n.Name)
			if err != nil || len(st.Layer2) != 0 {
				return false, nil
			}
		}
		return true, nil
	})
}

// heraldAnnouncesAll reports whether Herald's speakers' HeraldNodes show
// every IP announced.
func heraldAnnouncesAll(ctx context.Context, l *lab.Lab, ips []netip.Addr) bool {
	var all []v1beta1.Layer2Announcement
	for _, n := range l.Nodes {
		st, err := l.HeraldNode(ctx, n.Name)
		if err != nil {
			return false
		}
		all = append(all, st.Layer2...)
	}
	for _, ip := range ips {
		if countPrefix(all, netip.PrefixFrom(ip, ip.BitLen())) == 0 {
			return false
		}
	}
	return true
}

func nodeNames(l *lab.Lab) []string {
	names := make([]string, len(l.Nodes))
	for i, n := range l.Nodes {
		names[i] = n.Name
	}
	return names
}

// waitOneAnswerer waits until exactly one node answers ARP for ip, and
// names it: MetalLB ranks nodes by its own hash, which need not be Herald's.
func waitOneAnswerer(ctx context.Context, l *lab.Lab, ip netip.Addr) (string, error) {
	var got []string
	err := lab.PollUntil(ctx, 100*time.Millisecond, 30*time.Second, func() (bool, error) {
		var err error
		got, err = l.AnsweredBy(ctx, lab.ClientNS, ip)
		return err == nil && len(got) == 1, nil
	})
	if err != nil {
		return "", fmt.Errorf("%s answered by %v: %w", ip, got, err)
	}
	return got[0], nil
}
