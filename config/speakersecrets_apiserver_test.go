package config_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/reconcile"
	"github.com/heraldlb/herald/internal/testenv"
)

// The real apiserver, with config/rbac: a speaker may read the memberlist
// Secret and, once the controller (running as its own ServiceAccount) has
// seen a BGPPeer, the Secret that BGPPeer names, by name only; it may never
// list the Secrets of herald-system nor read one no BGPPeer names.
func TestASpeakerReadsOnlyTheSecretsBGPPeersName(t *testing.T) {
	env, cs := withRBAC(t)
	ctx := t.Context()
	for _, name := range []string{"herald-memberlist", "tor-pw", "unrelated"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: name}, StringData: map[string]string{"password": "pw-" + name}}
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	sp := speakerClient(t, env.Config, cs, "node-a")
	canGet := func(name string) error {
		return sp.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: name}, &corev1.Secret{})
	}
	forbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
	forbidden("list the Secrets of herald-system", sp.List(ctx, &corev1.SecretList{}, client.InNamespace(kube.Namespace)))
	forbidden("get a Secret no BGPPeer names yet", canGet("tor-pw"))
	if err := canGet("herald-memberlist"); err != nil {
		t.Errorf("get the memberlist Secret: %v", err)
	}

	runController(t, env, cs)
	peer := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPPeerSpec{
		MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: "198.51.100.1",
		PasswordSecret: &v1beta1.SecretRef{Name: "tor-pw", Namespace: kube.Namespace}}}
	if err := env.Client.Create(ctx, peer); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error { return canGet("tor-pw") })
	// By name, a list and watch are allowed too: that is how the speaker
	// watches a password Secret.
	named := client.MatchingFields{"metadata.name": "tor-pw"}
	if err := sp.List(ctx, &corev1.SecretList{}, client.InNamespace(kube.Namespace), named); err != nil {
		t.Errorf("list tor-pw by name: %v", err)
	}
	forbidden("list the Secrets of herald-system, after the grant", sp.List(ctx, &corev1.SecretList{}, client.InNamespace(kube.Namespace)))
	forbidden("get a Secret no BGPPeer names", canGet("unrelated"))
	wantNames(t, env.Client, "herald-memberlist", "tor-pw")

	// A Role reset by hand (or by an upgrade) is put right again.
	role := &rbacv1.Role{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: kube.SpeakerSecretsRole}, role); err != nil {
		t.Fatal(err)
	}
	role.Rules[0].ResourceNames = []string{"herald-memberlist"}
	if err := env.Client.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	wantNames(t, env.Client, "herald-memberlist", "tor-pw")

	if err := env.Client.Delete(ctx, peer); err != nil {
		t.Fatal(err)
	}
	wantNames(t, env.Client, "herald-memberlist")
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := canGet("tor-pw"); !apierrors.IsForbidden(err) {
			return fmt.Errorf("get tor-pw once no BGPPeer names it: %v, want forbidden", err)
		}
		return nil
	})
}

// wantNames waits for the speakers' Secrets Role to grant exactly names.
func wantNames(t *testing.T, c client.Client, names ...string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		role := &rbacv1.Role{}
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: kube.Namespace, Name: kube.SpeakerSecretsRole}, role); err != nil {
			return err
		}
		if len(role.Rules) != 1 || !slices.Equal(role.Rules[0].ResourceNames, names) {
			return fmt.Errorf("rules %+v, want one granting %v", role.Rules, names)
		}
		return nil
	})
}

// withRBAC starts an apiserver with the speakers' and the controller's
// ServiceAccounts and roles of config/rbac.
func withRBAC(t *testing.T) (*testenv.Env, kubernetes.Interface) {
	t.Helper()
	env := testenv.StartForTest(t, testenv.Options{})
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	seedSpeaker(t, env.Client)
	if err := testenv.ApplyFile(t.Context(), env.Client, filepath.Join(testenv.RepoRoot(), "config", "rbac", "controller.yaml"), nil); err != nil {
		t.Fatal(err)
	}
	return env, cs
}

// runController runs the controller's reconcilers, as the controller's
// ServiceAccount and with its cache, until the test ends.
func runController(t *testing.T, env *testenv.Env, cs kubernetes.Interface) {
	t.Helper()
	tok, err := testenv.Token(t.Context(), cs, kube.Namespace, "herald-controller")
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(testenv.AsToken(env.Config, tok), ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: cache.Options{ByObject: reconcile.SecretsRoleCache()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := reconcile.Setup(mgr, reconcile.Options{
		Class:          kube.ClassPolicy{Class: kube.DefaultClass, Default: true},
		SpeakerSecrets: &reconcile.SpeakerSecrets{Memberlist: "herald-memberlist"},
		// Tests of this package run it more than once in one process.
		SkipNameValidation: true,
	}); err != nil {
		t.Fatal(err)
	}
	testenv.RunManager(t, mgr)
}
