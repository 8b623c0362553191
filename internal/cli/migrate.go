package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/migrate"
)

// MigrateOptions are the flags of migrate-from-metallb.
type MigrateOptions struct {
	// Namespace is where MetalLB keeps its configuration.
	Namespace string
	// DryRun prints what would be done and changes nothing.
	DryRun bool
	// HoldAdvertisements leaves out the L2Advertisements and
	// BGPAdvertisements: Herald then adopts the IPs but announces none,
	// while MetalLB's speakers still do. A second run, once MetalLB's
	// speakers are stopped, creates them: that is the switch-over.
	HoldAdvertisements bool
}

func migrateCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var o MigrateOptions
	cmd := &cobra.Command{
		Use:   "migrate-from-metallb",
		Short: "Create Herald's configuration from MetalLB's, keeping every Service's IP",
		Long: `Reads MetalLB's configuration (metallb.io IPAddressPool, L2Advertisement,
BGPAdvertisement, BGPPeer, Community, BFDProfile) and creates the same under
heraldlb.io with server-side apply. Services keep their IPs: Herald's
controller adopts the IPs in their status, and reads MetalLB's Service
annotations as its own. What Herald cannot honour is listed, never dropped
silently. Run with --dry-run first; see docs/migration.md for the runbook.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunMigrate(cmd.Context(), flags, o, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&o.Namespace, "metallb-namespace", "metallb-system", "the namespace of MetalLB's configuration")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "print the Herald objects, the changes and what is not migrated; change nothing")
	cmd.Flags().BoolVar(&o.HoldAdvertisements, "hold-advertisements", false, "leave out L2Advertisements and BGPAdvertisements, so that Herald announces nothing yet; run again without it to switch announcing to Herald")
	return cmd
}

// RunMigrate migrates MetalLB's configuration and reports to out.
func RunMigrate(ctx context.Context, flags *genericclioptions.ConfigFlags, o MigrateOptions, out io.Writer) error {
	cfg, c, err := connect(flags)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	objs, err := readMetalLB(ctx, dyn, o.Namespace, out)
	if err != nil {
		return err
	}
	res := migrate.Convert(objs)
	if o.HoldAdvertisements {
		res.Objects = holdAdvertisements(res.Objects, out)
	}
	res.Findings = append(res.Findings, controllerRunning(ctx, c, o.Namespace)...)
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs); err != nil {
		return fmt.Errorf("list Services: %w", err)
	}
	plans := migrate.Services(svcs.Items, pools(res.Objects))
	changes, err := diff(ctx, c, res.Objects)
	if err != nil {
		return err
	}
	if o.DryRun {
		if err := printObjects(out, res.Objects); err != nil {
			return err
		}
	}
	report(out, changes, res, plans, o.DryRun)
	if o.DryRun {
		return nil
	}
	return apply(ctx, c, res, out)
}

// metallbKinds are the resources read, each at the versions MetalLB
// serves, newest first.
var metallbKinds = []struct {
	resource string
	versions []string
}{
	{"ipaddresspools", []string{"v1beta1"}},
	{"l2advertisements", []string{"v1beta1"}},
	{"bgpadvertisements", []string{"v1beta1"}},
	{"communities", []string{"v1beta1"}},
	{"bfdprofiles", []string{"v1beta1"}},
	{"bgppeers", []string{"v1beta2", "v1beta1"}},
}

// readMetalLB lists MetalLB's configuration in ns. A kind whose CRD is not
// installed has nothing to migrate, and the report says so.
func readMetalLB(ctx context.Context, dyn dynamic.Interface, ns string, out io.Writer) ([]unstructured.Unstructured, error) {
	var objs []unstructured.Unstructured
	for _, k := range metallbKinds {
		found := false
		for _, v := range k.versions {
			gvr := schema.GroupVersionResource{Group: migrate.MetalLBGroup, Version: v, Resource: k.resource}
			list, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
			}
			objs, found = append(objs, list.Items...), true
			break
		}
		if !found {
			fmt.Fprintf(out, "# %s.%s: not installed, nothing to migrate\n", k.resource, migrate.MetalLBGroup)
		}
	}
	return objs, nil
}

// controllerRunning warns when MetalLB's controller still runs: it and
// Herald's would both write Services' status.
func controllerRunning(ctx context.Context, c client.Client, ns string) []migrate.Finding {
	var d appsv1.Deployment
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "controller"}, &d)
	if err != nil || d.Spec.Replicas == nil || *d.Spec.Replicas == 0 {
		return nil
	}
	return []migrate.Finding{{
		Severity: migrate.Action,
		Object:   "Deployment/" + ns + "/controller",
		Message:  fmt.Sprintf("MetalLB's controller runs: scale it to 0 (kubectl -n %s scale deployment/controller --replicas=0) before Herald's controller starts, or both write Services' status", ns),
	}}
}

func holdAdvertisements(objs []migrate.Object, out io.Writer) []migrate.Object {
	var keep []migrate.Object
	for _, o := range objs {
		switch o.(type) {
		case *v1beta1.L2Advertisement, *v1beta1.BGPAdvertisement:
			fmt.Fprintf(out, "# held back: %s/%s (Herald announces nothing until it exists)\n", o.GetObjectKind().GroupVersionKind().Kind, o.GetName())
		default:
			keep = append(keep, o)
		}
	}
	return keep
}

func pools(objs []migrate.Object) []v1beta1.IPAddressPool {
	var out []v1beta1.IPAddressPool
	for _, o := range objs {
		if p, ok := o.(*v1beta1.IPAddressPool); ok {
			out = append(out, *p)
		}
	}
	return out
}

// apply creates or updates the Herald objects with server-side apply and
// copies the BGP password Secrets. It goes on past a failed object, so that
// one bad object does not hold back the others, and fails at the end.
func apply(ctx context.Context, c client.Client, res migrate.Result, out io.Writer) error {
	var errs []error
	for _, obj := range res.Objects {
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(fieldOwner)); err != nil {
			errs = append(errs, fmt.Errorf("apply %s/%s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err))
			continue
		}
		fmt.Fprintf(out, "applied %s/%s\n", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
	}
	for _, s := range res.Secrets {
		if err := copySecret(ctx, c, s); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(out, "copied Secret %s to %s\n", s.From, s.To)
	}
	return errors.Join(errs...)
}

const fieldOwner = "herald-migrate"

func copySecret(ctx context.Context, c client.Client, s migrate.SecretCopy) error {
	var src corev1.Secret
	if err := c.Get(ctx, s.From, &src); err != nil {
		return fmt.Errorf("read Secret %s to copy: %w", s.From, err)
	}
	dst := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.To.Namespace, Name: s.To.Name, Labels: src.Labels},
		Type:       src.Type,
		Data:       src.Data,
	}
	if err := c.Patch(ctx, dst, client.Apply, client.FieldOwner(fieldOwner)); err != nil {
		return fmt.Errorf("copy Secret %s to %s (is Herald's namespace created?): %w", s.From, s.To, err)
	}
	return nil
}
