package config_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// The real apiserver, with the policy of config/rbac/speaker-policy.yaml,
// refuses a speaker that writes another node's Lease or HeraldNode, and lets
// it write its own.
func TestASpeakerCanWriteOnlyItsOwnNodesObjects(t *testing.T) {
	env := testenv.StartForTest(t, testenv.Options{})
	ctx := t.Context()
	applyPolicy(t, env.Client)
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	seedSpeaker(t, env.Client)
	own := speakerClient(t, env.Config, cs, "node-a")
	unbound := speakerClient(t, env.Config, cs, "")

	other := lease("herald-speaker-node-b")
	// The policy takes effect once the apiserver has compiled it.
	testenv.Eventually(t, 20*time.Second, func() error {
		err := own.Create(ctx, other.DeepCopy())
		if err == nil {
			_ = env.Client.Delete(ctx, other.DeepCopy())
			return fmt.Errorf("the policy is not in force yet")
		}
		return nil
	})
	denied := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
			t.Errorf("%s: %v, want refused by the policy", what, err)
		} else if !strings.Contains(err.Error(), "herald-speaker-own-") {
			t.Errorf("%s: refused, but not by the policy: %v", what, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v, want allowed", what, err)
		}
	}
	denied("create another node's Lease", own.Create(ctx, other.DeepCopy()))
	if err := env.Client.Create(ctx, other.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	theirs := &coordinationv1.Lease{}
	if err := own.Get(ctx, client.ObjectKeyFromObject(other), theirs); err != nil {
		t.Fatal(err)
	}
	theirs.Annotations = map[string]string{"heraldlb.io/memberlist-address": "198.51.100.66:7946"}
	denied("update another node's Lease", own.Update(ctx, theirs))
	denied("delete another node's Lease", own.Delete(ctx, theirs))
	denied("create another node's HeraldNode", own.Create(ctx, heraldNode("node-b")))
	if err := env.Client.Create(ctx, heraldNode("node-b")); err != nil {
		t.Fatal(err)
	}
	denied("delete another node's HeraldNode", own.Delete(ctx, heraldNode("node-b")))

	mine := lease("herald-speaker-node-a")
	allowed("create its own Lease", own.Create(ctx, mine))
	mine.Annotations = map[string]string{"heraldlb.io/memberlist-address": "198.51.100.65:7946"}
	allowed("update its own Lease", own.Update(ctx, mine))
	allowed("create its own HeraldNode", own.Create(ctx, heraldNode("node-a")))
	denied("a token bound to no pod writes a HeraldNode", unbound.Create(ctx, heraldNode("node-c")))
	allowed("create the shared tie-breaker Lease", own.Create(ctx, lease("herald-l2-tiebreaker")))
	denied("a token bound to no pod writes a per-node Lease", unbound.Create(ctx, lease("herald-speaker-node-c")))
	allowed("delete its own Lease", own.Delete(ctx, mine))
}

func applyPolicy(t *testing.T, c client.Client) {
	t.Helper()
	for _, d := range readDocs(t, filepath.Join(testenv.RepoRoot(), "config", "rbac", "speaker-policy.yaml")) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(d.raw, &u.Object); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(t.Context(), u); err != nil {
			t.Fatalf("apply %s: %v", d.kind, err)
		}
	}
}

// seedSpeaker makes what a cluster has around a speaker: its namespace,
// service account and roles (config/rbac/speaker.yaml), two Nodes, and a
// speaker pod on node-a.
func seedSpeaker(t *testing.T, c client.Client) {
	t.Helper()
	ctx := t.Context()
	objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}}}
	for _, d := range readDocs(t, filepath.Join(testenv.RepoRoot(), "config", "rbac", "speaker.yaml")) {
		var o client.Object
		switch d.kind {
		case "ServiceAccount":
			o = &corev1.ServiceAccount{}
		case "Role":
			o = &rbacv1.Role{}
		case "RoleBinding":
			o = &rbacv1.RoleBinding{}
		case "ClusterRole":
			o = &rbacv1.ClusterRole{}
		case "ClusterRoleBinding":
			o = &rbacv1.ClusterRoleBinding{}
		default:
			continue
		}
		if err := yaml.UnmarshalStrict(d.raw, o); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	for _, n := range []string{"node-a", "node-b"} {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	objs = append(objs, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "herald-speaker-x1"},
		Spec: corev1.PodSpec{
			NodeName: "node-a", ServiceAccountName: "herald-speaker",
			Containers: []corev1.Container{{Name: "speaker", Image: "ghcr.io/heraldlb/herald-speaker:v0.1.0"}},
		},
	})
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// speakerClient authenticates as the speaker's service account with a token
// bound to the speaker pod on node, or, for node "", bound to nothing.
func speakerClient(t *testing.T, admin *rest.Config, cs kubernetes.Interface, node string) client.Client {
	t.Helper()
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(600))}}
	if node != "" {
		pod, err := cs.CoreV1().Pods(kube.Namespace).Get(t.Context(), "herald-speaker-x1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		req.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}
	}
	tok, err := cs.CoreV1().ServiceAccounts(kube.Namespace).CreateToken(t.Context(), "herald-speaker", req, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for the speaker: %v", err)
	}
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = tok.Status.Token
	scheme, err := kube.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if node != "" {
		review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := review.Status.UserInfo.Extra["authentication.kubernetes.io/node-name"]; len(got) != 1 || got[0] != node {
			t.Fatalf("the speaker's token names node %v, want %s", got, node)
		}
	}
	return c
}

func lease(name string) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: name}}
}

func heraldNode(name string) *v1beta1.HeraldNode {
	return &v1beta1.HeraldNode{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func ptrTo[T any](v T) *T { return &v }
