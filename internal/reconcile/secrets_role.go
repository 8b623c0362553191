package reconcile

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
)

// SpeakerSecrets configures the reconciler of the speakers' Secrets Role.
type SpeakerSecrets struct {
	// Memberlist is the name of the memberlist key's Secret, which every
	// speaker reads at start.
	Memberlist string
}

// SecretsRoleCache is what the manager's cache must hold for the Role's
// reconciler: that one Role, so the controller needs list and watch on it
// by name only (a field selector on metadata.name, which RBAC's
// resourceNames allows).
func SecretsRoleCache() map[client.Object]cache.ByObject {
	return map[client.Object]cache.ByObject{
		&rbacv1.Role{}: {
			Namespaces: map[string]cache.Config{kube.Namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", kube.SpeakerSecretsRole),
		},
	}
}

// secretsRoleReconciler keeps kube.SpeakerSecretsRole granting get, list
// and watch on exactly the memberlist Secret and the Secrets BGPPeers take
// passwords from. It is idempotent and computed from BGPPeers alone, so
// it runs on every replica, leader or not: two replicas write the same
// rule.
type secretsRoleReconciler struct {
	client client.Client
	reader client.Reader
	opts   SpeakerSecrets
}

func setupSecretsRole(mgr ctrl.Manager, o SpeakerSecrets, skipNameValidation bool) error {
	r := &secretsRoleReconciler{client: mgr.GetClient(), reader: mgr.GetCache(), opts: o}
	one := func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: kube.Namespace, Name: kube.SpeakerSecretsRole}}}
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("speaker-secrets-role").
		// A Role reset by hand or by an upgrade is put right again.
		Watches(&rbacv1.Role{}, handler.EnqueueRequestsFromMapFunc(one)).
		Watches(&v1beta1.BGPPeer{}, handler.EnqueueRequestsFromMapFunc(one)).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, SkipNameValidation: ptr.To(skipNameValidation)}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("set up speaker secrets role controller: %w", err)
	}
	return nil
}

// Reconcile sets the Role's one rule from the BGPPeers in the cache.
func (r *secretsRoleReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	var peers v1beta1.BGPPeerList
	if err := r.reader.List(ctx, &peers); err != nil {
		return reconcile.Result{}, fmt.Errorf("list BGPPeers: %w", err)
	}
	var role rbacv1.Role
	key := client.ObjectKey{Namespace: kube.Namespace, Name: kube.SpeakerSecretsRole}
	if err := r.reader.Get(ctx, key, &role); err != nil {
		if apierrors.IsNotFound(err) {
			// The controller may not create Roles (create cannot be
			// restricted by name): the Role ships with Herald's RBAC, and
			// its creation, which is watched, brings the work back.
			ctrl.LoggerFrom(ctx).Info("the speakers' Secrets Role does not exist; it is part of Herald's RBAC (config/rbac/speaker.yaml), waiting for it", "role", key.String())
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get Role %s: %w", key, err)
	}
	want := []rbacv1.PolicyRule{secretsRule(r.opts.Memberlist, config.PasswordSecrets(peers.Items, kube.Namespace))}
	if rulesEqual(role.Rules, want) {
		return reconcile.Result{}, nil
	}
	patch := client.MergeFromWithOptions(role.DeepCopy(), client.MergeFromWithOptimisticLock{})
	role.Rules = want
	if err := r.client.Patch(ctx, &role, patch); err != nil {
		return reconcile.Result{}, fmt.Errorf("patch Role %s: %w", key, err)
	}
	ctrl.LoggerFrom(ctx).Info("speakers may read these Secrets", "role", key.String(), "secrets", want[0].ResourceNames)
	return reconcile.Result{}, nil
}

// secretsRule grants get, list and watch on the memberlist Secret and the
// password Secrets, sorted, each once. It is never without resourceNames,
// which would grant every Secret of the namespace.
func secretsRule(memberlist string, passwords []string) rbacv1.PolicyRule {
	names := append([]string{memberlist}, passwords...)
	slices.Sort(names)
	names = slices.DeleteFunc(slices.Compact(names), func(n string) bool { return n == "" })
	if len(names) == 0 {
		names = []string{kube.DefaultMemberlistSecret}
	}
	return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}, ResourceNames: names}
}

func rulesEqual(a, b []rbacv1.PolicyRule) bool {
	return slices.EqualFunc(a, b, func(x, y rbacv1.PolicyRule) bool {
		return slices.Equal(x.APIGroups, y.APIGroups) && slices.Equal(x.Resources, y.Resources) && slices.Equal(x.Verbs, y.Verbs) &&
			slices.Equal(x.ResourceNames, y.ResourceNames) && slices.Equal(x.NonResourceURLs, y.NonResourceURLs)
	})
}
