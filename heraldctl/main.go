// Command heraldctl inspects and migrates Herald. Installed on the PATH as
// kubectl-herald, it is also the kubectl plugin "kubectl herald".
package main

import (
	"os"

	"github.com/heraldlb/herald/internal/cli"
)

func main() {
	if err := cli.Root(os.Stdout, os.Stderr).Execute(); err != nil {
		os.Exit(1)
	}
}
