// Command heraldctl inspects and migrates Herald. Installed on the PATH as
// kubectl-herald, it is also the kubectl plugin "kubectl herald".
package main

import (
	"os"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/heraldlb/herald/internal/cli"
)

func main() {
	// The client's own logs are not for a CLI user, who gets its errors;
	// without a logger controller-runtime prints a stack trace instead.
	ctrllog.SetLogger(logr.Discard())
	if err := cli.Root(os.Stdout, os.Stderr).Execute(); err != nil {
		os.Exit(1)
	}
}
