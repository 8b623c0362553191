package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/speaker"
	"github.com/heraldlb/herald/internal/status"
)

func statusCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Sum up Herald: pools and their use, speakers and their quorum, BGP sessions, and Services no node announces",
		Long: `Reads the IPAddressPools, every speaker's HeraldNode (one per node,
written by its speaker) and the LoadBalancer Services with IPs, and prints: each
pool's use and readiness; each speaker's readiness, quorum, how many members it
sees and how much it announces; each BGP session and its state; and every
Service IP that no HeraldNode lists, over Layer 2 or BGP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunStatus(cmd.Context(), flags, output, cmd.OutOrStdout())
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// RunStatus prints the cluster's summary to out in the given format.
func RunStatus(ctx context.Context, flags *genericclioptions.ConfigFlags, output string, out io.Writer) error {
	c, err := connectFor(flags, output)
	if err != nil {
		return err
	}
	s, err := readStatus(ctx, c)
	if err != nil {
		return err
	}
	return render(out, output, s, func(w io.Writer) error { return printStatus(w, s) })
}

func readStatus(ctx context.Context, c client.Client) (status.Summary, error) {
	var pools v1beta1.IPAddressPoolList
	if err := c.List(ctx, &pools); err != nil {
		return status.Summary{}, fmt.Errorf("list IPAddressPools: %w", err)
	}
	speakers, err := readSpeakers(ctx, c)
	if err != nil {
		return status.Summary{}, err
	}
	lbs, err := readLoadBalancers(ctx, c)
	if err != nil {
		return status.Summary{}, err
	}
	var events corev1.EventList
	if err := c.List(ctx, &events, client.MatchingFields{"reason": speaker.ReasonNotAnnounced}); err != nil {
		return status.Summary{}, fmt.Errorf("list NotAnnounced Events: %w", err)
	}
	return status.Summarize(pools.Items, speakers, lbs, status.LatestMessages(events.Items, speaker.ReasonNotAnnounced)), nil
}

func printStatus(out io.Writer, s status.Summary) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "POOL\tIN USE\tAVAILABLE\tREADY")
	for _, p := range s.Pools {
		ready := dash(p.Ready)
		if p.Reason != "" {
			ready += " (" + p.Reason + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, dash(p.InUse), dash(p.Available), ready)
	}
	fmt.Fprintln(w, "\nSPEAKER\tREADY\tCLAIMS\tMEMBERS\tLAYER2 IPS\tBGP ROUTES\tQUORUM")
	for _, sp := range s.Speakers {
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%d\t%d\t%s\n", sp.Node, dash(sp.Ready), sp.Claims, sp.Members, sp.Layer2, sp.Routes, sp.Quorum)
	}
	up := 0
	for _, p := range s.Peers {
		if p.Up() {
			up++
		}
	}
	fmt.Fprintf(w, "\nBGP SESSIONS: %d of %d up\nNODE\tPEER\tADDRESS\tSTATE\tPREFIXES\tERROR\n", up, len(s.Peers))
	for _, p := range s.Peers {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", p.Node, p.Name, dash(p.Address), p.State, p.Prefixes, dash(p.Error))
	}
	fmt.Fprintf(w, "\nSERVICE IPS NO NODE ANNOUNCES: %d\n", len(s.Unannounced))
	if len(s.Unannounced) > 0 {
		fmt.Fprintln(w, "SERVICE\tIP\tWHY")
	}
	for _, u := range s.Unannounced {
		fmt.Fprintf(w, "%s\t%s\t%s\n", u.Service, u.IP, dash(u.Why))
	}
	return w.Flush()
}

// readSpeakers reads the speakers' HeraldNodes.
func readSpeakers(ctx context.Context, c client.Client) ([]v1beta1.HeraldNode, error) {
	var list v1beta1.HeraldNodeList
	if err := c.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list the HeraldNodes: %w", err)
	}
	return list.Items, nil
}
