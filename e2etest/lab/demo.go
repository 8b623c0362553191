package lab

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/cli"
	"github.com/heraldlb/herald/internal/kube"
)

// DemoNamespace holds the demo Services.
const DemoNamespace = "demo"

// demoService is one Service the demo creates: a pool found by address, an
// IP family, and the nodes its endpoints are on.
type demoService struct {
	name   string
	within netip.Prefix
	nodes  []int
}

var demoServices = []demoService{
	{"web-l2-v4", L2Pool4, []int{1, 2}},
	{"web-l2-v6", L2Pool6, []int{2}},
	{"web-bgp-v4", BGPPool4, []int{1, 2, 3}},
	{"web-bgp-v6", BGPPool6, []int{3}},
}

// Demo applies config/samples (or the lab's default configuration when there
// are no samples), creates the demo Services, waits for their IPs while the
// controller runs, and writes a summary to w.
func (l *Lab) Demo(ctx context.Context, w io.Writer) error {
	applied, err := l.ApplySamples(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		l.logf("config/samples has no YAML yet: applying the lab's default pools and advertisements")
		if err := l.ApplyDefaultConfig(ctx); err != nil {
			return err
		}
	} else {
		l.logf("applied %s", strings.Join(applied, ", "))
	}

	var svcs []*corev1.Service
	for _, d := range demoServices {
		pool, err := l.PoolFor(ctx, d.within)
		if err != nil {
			l.logf("skipping %s: %v", d.name, err)
			continue
		}
		var on []Node
		for _, i := range d.nodes {
			if i <= len(l.Nodes) {
				on = append(on, l.Nodes[i-1])
			}
		}
		opts := []ServiceOption{WithPool(pool)}
		if d.within.Addr().Is6() {
			opts = append(opts, IPv6Only())
		}
		svc, err := l.CreateService(ctx, DemoNamespace, d.name, on, opts...)
		if err != nil {
			return err
		}
		svcs = append(svcs, svc)
	}
	if l.Controller.Running {
		for i, s := range svcs {
			got, err := l.WaitForIPs(ctx, s.Namespace, s.Name, 1, 30*time.Second)
			if err != nil {
				l.logf("%v", err)
			}
			svcs[i] = got
		}
	}
	if l.Speakers.Running {
		// Speakers that have just started settle for a moment before they
		// claim: wait for an announcer rather than print "nobody".
		for _, s := range svcs {
			for _, ip := range IngressIPs(s) {
				_ = waitFor(ctx, 15*time.Second, func() bool {
					ann, err := l.Announcers(ctx, ip)
					return err == nil && len(ann) > 0
				})
			}
		}
	}
	l.Summary(ctx, w, svcs)
	// HeraldNodes are written at most once a second: wait until each
	// speaker's says it claims, so that the status is not from start-up.
	for _, n := range l.Nodes {
		_ = waitFor(ctx, 15*time.Second, func() bool {
			st, err := l.HeraldNode(ctx, n.Name)
			return err == nil && st.Quorum.Claims
		})
	}
	fmt.Fprintf(w, "\n$ kubectl herald status\n")
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &l.Kubeconfig
	if err := cli.RunStatus(ctx, flags, "table", w); err != nil {
		fmt.Fprintf(w, "  %v\n", err)
	}
	if len(svcs) > 0 && svcs[0] != nil {
		fmt.Fprintf(w, "\n$ kubectl herald why -n %s %s\n", svcs[0].Namespace, svcs[0].Name)
		flags.Namespace = &svcs[0].Namespace
		if err := cli.RunWhy(ctx, flags, svcs[0].Name, kube.ClassPolicy{Class: kube.DefaultClass, Default: true}, "text", w); err != nil {
			fmt.Fprintf(w, "  %v\n", err)
		}
	}
	return nil
}

// Summary writes, for each Service: its IPs, pool, announcing nodes, and the
// result of a curl from the LAN client and from the upstream client; then
// the router's BGP neighbors.
func (l *Lab) Summary(ctx context.Context, w io.Writer, svcs []*corev1.Service) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tIP\tPOOL\tANNOUNCED BY\tCURL FROM LAN CLIENT\tCURL FROM UPSTREAM CLIENT")
	for _, s := range svcs {
		name := s.Namespace + "/" + s.Name
		ips := IngressIPs(s)
		if len(ips) == 0 {
			why := "none yet"
			if !l.Controller.Running {
				why = "none: controller not running"
			}
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\n", name, why)
			continue
		}
		for _, ip := range ips {
			pool := s.Annotations[PoolAnnotation]
			if pool == "" {
				pool = "?"
			}
			ann, err := l.Announcers(ctx, ip)
			announced := strings.Join(ann, ",")
			switch {
			case err != nil:
				announced = "error: " + err.Error()
			case len(ann) == 0 && !l.Speakers.Running:
				announced = "nobody: speakers not implemented"
			case len(ann) == 0:
				announced = "nobody"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, ip, pool, announced,
				l.describeProbe(ctx, ClientNS, ip, ann), l.describeProbe(ctx, UpstreamClientNS, ip, ann))
		}
	}
	tw.Flush()

	neighbors, err := BGPNeighbors(ctx)
	if err != nil {
		fmt.Fprintf(w, "\nFRR (%s, AS %d): %v\n", RouterNS, RouterASN, err)
		return
	}
	fmt.Fprintf(w, "\nFRR (%s, AS %d) neighbors, nodes in AS %d:\n", RouterNS, RouterASN, NodeASN)
	// The router waits for sessions from every node address, IPv4 and
	// IPv6; a family no BGPPeer uses stays down, and says why.
	peered := map[bool]bool{}
	var peers v1beta1.BGPPeerList
	if err := l.Env.Client.List(ctx, &peers); err == nil {
		for _, p := range peers.Items {
			if a, err := netip.ParseAddr(p.Spec.PeerAddress); err == nil {
				peered[a.Is4()] = true
			}
		}
	}
	for _, n := range neighbors {
		note := ""
		if !peered[n.Address.Is4()] {
			note = " (no BGPPeer of this family)"
		}
		fmt.Fprintf(w, "  %-18s %-12s %d prefixes received%s\n", n.Address, n.State, n.Received, note)
	}
	fmt.Fprintf(w, "\nthe router's kernel routes from BGP (ip route show proto bgp):\n")
	for _, fam := range []string{"-4", "-6"} {
		out, err := Exec(ctx, RouterNS, "ip", fam, "route", "show", "proto", "bgp")
		if err != nil {
			fmt.Fprintf(w, "  %v\n", err)
			continue
		}
		for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
	}
}

func (l *Lab) describeProbe(ctx context.Context, ns string, ip netip.Addr, announcers []string) string {
	r := Probe(ctx, ns, ip, 80)
	if r.Err == nil {
		return "ok: served by " + r.Node
	}
	if len(announcers) == 0 {
		if !l.Speakers.Running {
			return "fails: no route/ARP yet: speakers not implemented"
		}
		return "fails: no route/ARP"
	}
	msg := r.Err.Error()
	if i := strings.LastIndex(msg, "curl: "); i >= 0 {
		msg = msg[i:]
	}
	return "fails: " + msg
}
