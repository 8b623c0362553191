package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// checkOutput rejects an --output the commands do not print.
func checkOutput(output string) error {
	if output != "table" && output != "json" && output != "yaml" {
		return fmt.Errorf("--output %q: want table, json or yaml", output)
	}
	return nil
}

// render prints v as JSON or YAML, or calls table for the table format.
func render(out io.Writer, output string, v any, table func(io.Writer) error) error {
	switch output {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("encode JSON: %w", err)
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode YAML: %w", err)
		}
		_, err = out.Write(b)
		return err
	}
	return table(out)
}

// outputFlag adds -o to cmd.
func outputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "table, json or yaml")
}

// scope is where a namespaced command lists: every namespace with -A, else
// -n or the kubeconfig's namespace.
func scope(flags *genericclioptions.ConfigFlags, all bool) ([]client.ListOption, error) {
	if all {
		return nil, nil
	}
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("find the namespace: %w", err)
	}
	return []client.ListOption{client.InNamespace(ns)}, nil
}

// readLoadBalancers lists the LoadBalancer Services.
func readLoadBalancers(ctx context.Context, c client.Client, opts ...client.ListOption) ([]corev1.Service, error) {
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs, opts...); err != nil {
		return nil, fmt.Errorf("list Services: %w", err)
	}
	var lbs []corev1.Service
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			lbs = append(lbs, s)
		}
	}
	return lbs, nil
}

// connectFor checks the --output a command was given, then connects.
func connectFor(flags *genericclioptions.ConfigFlags, output string) (client.Client, error) {
	if err := checkOutput(output); err != nil {
		return nil, err
	}
	_, c, err := connect(flags)
	return c, err
}
