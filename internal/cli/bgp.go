package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/status"
)

func bgpCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "bgp", Short: "Show the BGP sessions and the routes each node sends"}
	var output string
	peers := &cobra.Command{
		Use:   "peers",
		Short: "List every node's BGP sessions: state, since when, last error, prefixes sent and withheld",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunBGPPeers(cmd.Context(), flags, output, cmd.OutOrStdout())
		},
	}
	routes := &cobra.Command{
		Use:   "routes NODE",
		Short: "List the prefixes NODE sends to each of its BGP peers, as its HeraldNode says",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunBGPRoutes(cmd.Context(), flags, args[0], output, cmd.OutOrStdout())
		},
	}
	outputFlag(peers, &output)
	outputFlag(routes, &output)
	cmd.AddCommand(peers, routes)
	return cmd
}

// RunBGPPeers prints every node's sessions to out in the given format.
func RunBGPPeers(ctx context.Context, flags *genericclioptions.ConfigFlags, output string, out io.Writer) error {
	c, err := connectFor(flags, output)
	if err != nil {
		return err
	}
	nodes, err := readSpeakers(ctx, c)
	if err != nil {
		return err
	}
	rows, now := status.BGPPeers(nodes), time.Now()
	return render(out, output, rows, func(w io.Writer) error { return status.WritePeers(w, rows, now) })
}

// RunBGPRoutes prints what node sends to each peer to out in the given
// format.
func RunBGPRoutes(ctx context.Context, flags *genericclioptions.ConfigFlags, node, output string, out io.Writer) error {
	c, err := connectFor(flags, output)
	if err != nil {
		return err
	}
	var n v1beta1.HeraldNode
	if err := c.Get(ctx, client.ObjectKey{Name: node}, &n); err != nil {
		return fmt.Errorf("get the HeraldNode of node %q: %w", node, err)
	}
	rows := status.Routes(n)
	return render(out, output, rows, func(w io.Writer) error { return status.WriteRoutes(w, node, rows) })
}
