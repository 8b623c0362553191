package e2etest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/heraldlb/herald/e2etest/lab"
	"github.com/heraldlb/herald/e2etest/measure"
	"github.com/heraldlb/herald/internal/election"
)

// TestIPv6OnlyGossip: the speakers advertise their IPv6 addresses to
// memberlist, which binds :: by default for them, and every IPv4 gossip
// packet is dropped. They still find each other, elect one node for an
// IPv6 Service, and fail over when its speaker is killed.
func TestIPv6OnlyGossip(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := upWith(ctx, t, lab.Options{SpeakerArgs: func(n lab.Node, kubeconfig string) []string {
		return append(lab.DefaultSpeakerArgs(n, kubeconfig), "--memberlist-advertise-address="+n.IPv6.String())
	}}, func(l *lab.Lab) error { return l.BlockIPv4Gossip(ctx) })
	for _, n := range l.Nodes {
		if !measure.Poll(ctx, 30*time.Second, func() bool {
			st, err := l.HeraldNode(ctx, n.Name)
			return err == nil && st.Quorum.Alive == 3 && st.Quorum.Known == 3
		}) {
			st, _ := l.HeraldNode(ctx, n.Name)
			t.Fatalf("%s never saw all three speakers over IPv6: %+v", n.Name, st.Quorum)
		}
	}
	svc, err := l.CreateService(ctx, "ipv6gossip", "svc", l.Nodes, lab.WithPool("lan"), lab.IPv6Only())
	if err != nil {
		t.Fatal(err)
	}
	if svc, err = l.WaitForIPs(ctx, "ipv6gossip", svc.Name, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	ip := lab.IngressIPs(svc)[0]
	rank := election.Rank(ip, names(l.Nodes))
	if _, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 15*time.Second); err != nil {
		t.Fatal(err)
	}
	i := l.NodeIndex(rank[0])
	killed := time.Now()
	if err := l.SignalSpeaker(i, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, aerr := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[1], 10*time.Second)
	took := time.Since(killed)
	l.StopSpeaker(i, time.Second)
	if err := l.StartSpeaker(i); err != nil {
		t.Fatal(err)
	}
	if aerr != nil {
		t.Fatalf("after %s's speaker was killed: %v", rank[0], aerr)
	}
	back, err := l.WaitAnsweredBy(ctx, lab.ClientNS, ip, rank[0], 30*time.Second)
	if err != nil {
		t.Fatalf("after %s's speaker restarted: %v", rank[0], err)
	}
	t.Logf("IPv6-only gossip: %s (%s) killed, %s answered %v later; restarted, %s answered again %v later",
		rank[0], ip, rank[1], took.Round(time.Millisecond), rank[0], back.Round(time.Millisecond))
}
