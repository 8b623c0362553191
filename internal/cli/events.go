package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/heraldlb/herald/internal/status"
)

func eventsCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var output string
	var all bool
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the Events about Herald, newest last",
		Long: `Lists the Events of the namespace (every namespace with -A) about Herald's
kinds (heraldlb.io) and those Herald's controller or speakers reported, such as
the Events on Services, newest last.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunEvents(cmd.Context(), flags, all, since, output, cmd.OutOrStdout())
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the Events of every namespace")
	cmd.Flags().DurationVar(&since, "since", 0, "only Events seen within this long (such as 1h); 0 lists all")
	return cmd
}

// RunEvents prints Herald's Events seen within since (0: all) to out in the
// given format.
func RunEvents(ctx context.Context, flags *genericclioptions.ConfigFlags, all bool, since time.Duration, output string, out io.Writer) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	if since < 0 {
		return fmt.Errorf("--since %v: want a duration of 0 or more", since)
	}
	_, c, err := connect(flags)
	if err != nil {
		return err
	}
	where, err := scope(flags, all)
	if err != nil {
		return err
	}
	var list corev1.EventList
	if err := c.List(ctx, &list, where...); err != nil {
		return fmt.Errorf("list Events: %w", err)
	}
	now, from := time.Now(), time.Time{}
	if since > 0 {
		from = now.Add(-since)
	}
	rows := status.Events(list.Items, from)
	return render(out, output, rows, func(w io.Writer) error { return status.WriteEvents(w, rows, now) })
}
