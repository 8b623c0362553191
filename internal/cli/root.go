// Package cli is heraldctl, also run as the kubectl plugin kubectl-herald:
// the commands, their flags and their wiring to the cluster. What a command
// decides lives in pure packages (such as internal/migrate).
package cli

import (
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

// Root returns heraldctl's root command, writing to out and errOut.
func Root(out, errOut io.Writer) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:           "heraldctl",
		Short:         "Inspect and migrate Herald, the bare-metal LoadBalancer for Kubernetes",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	flags.AddFlags(root.PersistentFlags())
	root.AddCommand(migrateCommand(flags), statusCommand(flags), whyCommand(flags), collectCommand(flags),
		poolsCommand(flags), servicesCommand(flags), bgpCommand(flags), eventsCommand(flags))
	return root
}

// connect gives the commands a REST config and a client that knows
// Herald's kinds.
func connect(flags *genericclioptions.ConfigFlags) (*rest.Config, client.Client, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, nil, err
	}
	scheme, err := kube.Scheme()
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return cfg, c, err
}
