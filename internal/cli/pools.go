package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/status"
)

func poolsCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "pools",
		Short: "List the IPAddressPools: addresses, use, state and the advertisements that select them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunPools(cmd.Context(), flags, output, cmd.OutOrStdout())
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// RunPools prints the pools to out in the given format.
func RunPools(ctx context.Context, flags *genericclioptions.ConfigFlags, output string, out io.Writer) error {
	c, err := connectFor(flags, output)
	if err != nil {
		return err
	}
	var pools v1beta1.IPAddressPoolList
	var l2 v1beta1.L2AdvertisementList
	var bgp v1beta1.BGPAdvertisementList
	if err := c.List(ctx, &pools); err != nil {
		return fmt.Errorf("list IPAddressPools: %w", err)
	}
	if err := c.List(ctx, &l2); err != nil {
		return fmt.Errorf("list L2Advertisements: %w", err)
	}
	if err := c.List(ctx, &bgp); err != nil {
		return fmt.Errorf("list BGPAdvertisements: %w", err)
	}
	rows := status.Pools(pools.Items, l2.Items, bgp.Items)
	return render(out, output, rows, func(w io.Writer) error { return status.WritePools(w, rows) })
}
