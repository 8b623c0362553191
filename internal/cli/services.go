package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/heraldlb/herald/internal/status"
)

func servicesCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "services",
		Short: "List the LoadBalancer Services: IPs, pool, and the nodes and BGP sessions that announce them",
		Long: `Lists the LoadBalancer Services of the namespace (every namespace with -A):
their IPs (PENDING while they have none), the pool they come from, the nodes that
answer for them over Layer 2 and the node→peer BGP sessions that carry them, as
the speakers' HeraldNodes say. NONE in both columns: no node announces the IP.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunServices(cmd.Context(), flags, all, output, cmd.OutOrStdout())
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the Services of every namespace")
	return cmd
}

// RunServices prints the LoadBalancer Services of the namespace, or of all
// of them, to out in the given format.
func RunServices(ctx context.Context, flags *genericclioptions.ConfigFlags, all bool, output string, out io.Writer) error {
	c, err := connectFor(flags, output)
	if err != nil {
		return err
	}
	where, err := scope(flags, all)
	if err != nil {
		return err
	}
	lbs, err := readLoadBalancers(ctx, c, where...)
	if err != nil {
		return err
	}
	nodes, err := readSpeakers(ctx, c)
	if err != nil {
		return err
	}
	rows := status.Services(lbs, nodes)
	return render(out, output, rows, func(w io.Writer) error { return status.WriteServices(w, rows) })
}
