package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/internal/migrate"
)

// change is what applying one object does to the cluster.
type change struct {
	ref  string // Kind/name
	verb string // "create", "update", "unchanged" or "refused"
	diff string // for "update": the spec before (-) and after (+); for "refused": why
}

// diff compares each object as the apiserver would store it (a server-side
// dry-run apply, so with defaults filled in and validation run) with what
// it stores now.
func diff(ctx context.Context, c client.Client, objs []migrate.Object) ([]change, error) {
	var out []change
	for _, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		ch := change{ref: gvk.Kind + "/" + o.GetName(), verb: "create"}
		cur, err := c.Scheme().New(gvk)
		if err != nil {
			return nil, err
		}
		curObj := cur.(client.Object)
		switch err := c.Get(ctx, client.ObjectKey{Name: o.GetName()}, curObj); {
		case meta.IsNoMatchError(err):
			return nil, fmt.Errorf("Herald's CRDs are not installed: apply them first (see docs/migration.md): %w", err)
		case apierrors.IsNotFound(err):
			curObj = nil
		case err != nil:
			return nil, fmt.Errorf("read %s: %w", ch.ref, err)
		}
		after := o.DeepCopyObject().(client.Object)
		if err := c.Patch(ctx, after, client.Apply, client.FieldOwner(fieldOwner), client.DryRunAll); err != nil {
			ch.verb, ch.diff = "refused", err.Error()
		} else if curObj != nil {
			ch.verb = "unchanged"
			if d := cmp.Diff(spec(curObj), spec(after)); d != "" {
				ch.verb, ch.diff = "update", d
			}
		}
		out = append(out, ch)
	}
	return out, nil
}

// spec is an object's spec as plain data, the part a migration sets.
func spec(o runtime.Object) any {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return err.Error()
	}
	return u["spec"]
}

// printObjects writes the objects as a YAML stream, without the fields the
// apiserver fills in.
func printObjects(out io.Writer, objs []migrate.Object) error {
	fmt.Fprintln(out, "# Herald objects to apply")
	for _, o := range objs {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return err
		}
		delete(u, "status")
		delete(u["metadata"].(map[string]any), "creationTimestamp")
		data, err := yaml.Marshal(u)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "---\n%s", data)
	}
	return nil
}

// report writes the changes, the Secrets to copy, the findings and what
// becomes of each Service.
func report(out io.Writer, changes []change, res migrate.Result, plans []migrate.ServicePlan, dryRun bool) {
	would := ""
	if dryRun {
		would = " (dry run: nothing is changed)"
	}
	fmt.Fprintf(out, "# Changes%s\n", would)
	for _, c := range changes {
		fmt.Fprintf(out, "%-9s %s\n", c.verb, c.ref)
		if c.diff != "" {
			fmt.Fprintln(out, indent(c.diff))
		}
	}
	for _, s := range res.Secrets {
		fmt.Fprintf(out, "copy      Secret %s to %s\n", s.From, s.To)
	}
	fmt.Fprintf(out, "# Not migrated as it was: %d findings\n", len(res.Findings))
	for _, f := range res.Findings {
		fmt.Fprintln(out, f)
	}
	problems := 0
	for _, p := range plans {
		if p.Problem != "" {
			problems++
		}
	}
	fmt.Fprintf(out, "# Services with an IP: %d keep it, %d may not (see PROBLEM)\n", len(plans)-problems, problems)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tIPS\tPOOL\tMETALLB POOL\tANNOTATIONS READ\tPROBLEM")
	for _, p := range plans {
		ips := make([]string, len(p.IPs))
		for i, ip := range p.IPs {
			ips[i] = ip.String()
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Key, strings.Join(ips, ","), dash(p.Pool), dash(p.MetalLBPool), dash(strings.Join(p.Annotations, ",")), dash(p.Problem))
	}
	w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
