package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/explain"
	"github.com/heraldlb/herald/internal/kube"
)

func whyCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output, class string
	var dflt bool
	cmd := &cobra.Command{
		Use:   "why SERVICE",
		Short: "Explain why a Service has, or has not, its IP and its announcer",
		Long: `Explains, in sentences, a LoadBalancer Service of the namespace (-n):
which pool its IP is from, which advertisements select that pool, each node's
verdict (selected, excluded, tainted out-of-service, cordoned, NotReady for 40 s,
no local endpoint, no live speaker), how the election ranks the candidates, and
what the speakers' HeraldNodes say they announce, over Layer 2 and BGP. Without an
IP, it gives the controller's Warning Events.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunWhy(cmd.Context(), flags, args[0], kube.ClassPolicy{Class: class, Default: dflt}, output, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().StringVar(&class, "load-balancer-class", kube.DefaultClass, "the loadBalancerClass Herald was installed with")
	cmd.Flags().BoolVar(&dflt, "default-class", true, "whether Herald also handles Services that set no loadBalancerClass, as installed")
	return cmd
}

// RunWhy explains Service name of the flags' namespace to out.
func RunWhy(ctx context.Context, flags *genericclioptions.ConfigFlags, name string, class kube.ClassPolicy, output string, out io.Writer) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}
	_, c, err := connect(flags)
	if err != nil {
		return err
	}
	in, err := readWhy(ctx, c, ns, name)
	if err != nil {
		return err
	}
	in.Handled, in.Class, in.DefaultClass = class.Handles(&in.Service), class.Class, class.Default
	in.Namespace, in.Now = kube.Namespace, time.Now()
	lines := explain.Why(in)
	if output == "json" {
		b, err := json.MarshalIndent(map[string]any{"service": ns + "/" + name, "why": lines}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintln(out, strings.Join(lines, "\n"))
	return err
}

func readWhy(ctx context.Context, c client.Client, ns, name string) (explain.Inputs, error) {
	var in explain.Inputs
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &in.Service); err != nil {
		return in, fmt.Errorf("read Service %s/%s: %w", ns, name, err)
	}
	var namespace corev1.Namespace
	if err := c.Get(ctx, client.ObjectKey{Name: ns}, &namespace); err != nil {
		return in, fmt.Errorf("read Namespace %s, whose labels pools may select: %w", ns, err)
	}
	in.NamespaceLabels = namespace.Labels
	var slices discoveryv1.EndpointSliceList
	var events corev1.EventList
	var pools v1beta1.IPAddressPoolList
	var l2 v1beta1.L2AdvertisementList
	var bgp v1beta1.BGPAdvertisementList
	var peers v1beta1.BGPPeerList
	var nodes corev1.NodeList
	for _, l := range []struct {
		what string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"EndpointSlices", &slices, []client.ListOption{client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}}},
		{"Events", &events, []client.ListOption{client.InNamespace(ns), client.MatchingFields{"involvedObject.kind": "Service", "involvedObject.name": name}}},
		{"IPAddressPools", &pools, nil}, {"L2Advertisements", &l2, nil}, {"BGPAdvertisements", &bgp, nil},
		{"BGPPeers", &peers, nil}, {"Nodes", &nodes, nil},
	} {
		if err := c.List(ctx, l.list, l.opts...); err != nil {
			return in, fmt.Errorf("list %s: %w", l.what, err)
		}
	}
	for i := range slices.Items {
		in.Endpoints = append(in.Endpoints, &slices.Items[i])
	}
	in.Events, in.Nodes = events.Items, nodes.Items
	in.Config = config.Objects{Pools: pools.Items, L2: l2.Items, BGP: bgp.Items, Peers: peers.Items}
	speakers, err := readSpeakers(ctx, c)
	in.Speakers = speakers
	return in, err
}
