package memberlistkey

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

// TestWatcherNeedsOnlyItsSecret runs the watcher as a user whose only
// access to Secrets is get, list and watch on the memberlist Secret by
// name (RBAC resourceNames), which cannot list the namespace's Secrets: the
// name-restricted watch is all the watcher needs.
func TestWatcherNeedsOnlyItsSecret(t *testing.T) {
	ensureNamespace(t)
	ctx := context.Background()
	const name, user = "herald-memberlist-rbac", "herald-keyring-test"
	objs := []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: user}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{name}, Verbs: []string{"get", "list", "watch"},
		}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: user},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}},
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	restricted, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	// The restriction is real: this user cannot list the namespace's
	// Secrets.
	if err := restricted.List(ctx, &corev1.SecretList{}, client.InNamespace(kube.Namespace)); !apierrors.IsForbidden(err) {
		t.Fatalf("listing every Secret as %s: %v, want Forbidden", user, err)
	}
	h := startWatcherAs(t, cfg, name, map[string]string{"secretkey": keyA})
	h.waitCalls("A")
	h.put(map[string]string{"secretkey": keyA, "secretkey.next": keyB})
	h.waitCalls("A", "A+B")
}
