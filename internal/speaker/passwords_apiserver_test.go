package speaker

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// A speaker whose Secrets are read as its ServiceAccount, which may not
// list Secrets: a BGPPeer naming a Secret the speaker may not read yet
// opens no session and crashes nothing; once the Role grants that Secret
// (as the controller does), the session opens with its password, and a new
// password reaches it through the watch by name.
func TestBGPPasswordsAreReadByName(t *testing.T) {
	ns := setUp(t)
	ctx := context.Background()
	secrets := speakerSecrets(t)
	setUpBGP(t)
	service(t, ns, "api", "203.0.113.70", nil, "node2")
	mem := newFakeMembership()
	mem.set(members(t, 1, 2, 3)...)
	h := startWith(t, "node1", mem, secrets.CoreV1())
	session := func(password string) func() (bool, string) {
		return func() (bool, string) {
			d, ok := h.bgp.last()
			return ok && len(d.Sessions) == 1 && d.Sessions[0].Password == password && len(d.Paths["tor"]) == 1, fmt.Sprintf("%+v", d)
		}
	}
	waitFor(t, "a plan without the session", func() (bool, string) {
		d, ok := h.bgp.last()
		return ok && len(d.Sessions) == 0, fmt.Sprintf("%+v", d)
	})
	// The speaker's HeraldNode says why, on the peer and in its
	// configuration condition.
	waitFor(t, "the HeraldNode to say the Secret is not readable yet", func() (bool, string) {
		st, err := heraldNode("node1")
		if err != nil {
			return false, err.Error()
		}
		c := apimeta.FindStatusCondition(st.Conditions, v1beta1.NodeConfigurationAccepted)
		const why = "may not read Secret herald-system/tor-pw yet"
		return len(st.BGPPeers) == 1 && st.BGPPeers[0].State == "NotOpened" && strings.Contains(st.BGPPeers[0].LastError, why) &&
			c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "BGPPeer/"), fmt.Sprintf("%+v", st)
	})

	role := &rbacv1.Role{}
	key := client.ObjectKey{Namespace: kube.Namespace, Name: kube.SpeakerSecretsRole}
	if err := env.Client.Get(ctx, key, role); err != nil {
		t.Fatal(err)
	}
	role.Rules[0].ResourceNames = append(role.Rules[0].ResourceNames, "tor-pw")
	if err := env.Client.Update(ctx, role); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session with its password", session("s3cret"))

	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: "tor-pw"}, sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["password"] = []byte("n3w")
	if err := env.Client.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session with the new password", session("n3w"))
	if err := h.stop(); err != nil {
		t.Errorf("speaker: %v", err)
	}
}

// speakerSecrets creates the speaker's ServiceAccount and its Secrets Role
// and binding from config/rbac/speaker.yaml, removed at cleanup, and
// returns a Secrets client authenticated as that ServiceAccount.
func speakerSecrets(t *testing.T) kubernetes.Interface {
	t.Helper()
	ctx := context.Background()
	var made []*unstructured.Unstructured
	keep := func(u *unstructured.Unstructured) bool {
		if u.GetKind() == "ServiceAccount" || u.GetName() == kube.SpeakerSecretsRole {
			made = append(made, u)
			return true
		}
		return false
	}
	t.Cleanup(func() {
		for _, u := range made {
			_ = env.Client.Delete(ctx, u)
		}
	})
	if err := testenv.ApplyFile(ctx, env.Client, filepath.Join(testenv.RepoRoot(), "config", "rbac", "speaker.yaml"), keep); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(made, func(u *unstructured.Unstructured) bool { return u.GetKind() == "RoleBinding" }) {
		t.Fatalf("config/rbac/speaker.yaml binds no %s", kube.SpeakerSecretsRole)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)
	tok, err := testenv.Token(ctx, cs, kube.Namespace, "herald-speaker")
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(testenv.AsToken(env.Config, tok))
}
