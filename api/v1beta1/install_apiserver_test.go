package v1beta1_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldlb/herald/internal/testenv"
)

// TestManifestAppliesServerSide installs manifests/herald.yaml the way a user
// does, with server-side apply, and then checks that kubectl explain shows the
// schema's documentation.
func TestManifestAppliesServerSide(t *testing.T) {
	testenv.Require(t, env)
	manifest := filepath.Join(testenv.RepoRoot(), "manifests", "herald.yaml")
	out, err := env.Kubectl("apply", "--server-side", "--field-manager=herald-install", "-f", manifest).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply --server-side: %v\n%s", err, out)
	}
	for _, want := range []string{
		"namespace/herald-system serverside-applied",
		"customresourcedefinition.apiextensions.k8s.io/ipaddresspools.heraldlb.io serverside-applied",
		"deployment.apps/herald-controller serverside-applied",
		"daemonset.apps/herald-speaker serverside-applied",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	// A second apply changes nothing.
	out, err = env.Kubectl("apply", "--server-side", "--field-manager=herald-install", "-f", manifest).CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
}

func TestKubectlExplain(t *testing.T) {
	testenv.Require(t, env)
	out, err := env.Kubectl("explain", "ipaddresspool.spec.addresses").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl explain: %v\n%s", err, out)
	}
	for _, want := range []string{"GROUP:      heraldlb.io", "Addresses are the blocks this pool allocates from"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("kubectl explain ipaddresspool.spec.addresses:\n%s", out)
}

func TestShortNamesAndCategory(t *testing.T) {
	testenv.Require(t, env)
	out, err := env.Kubectl("api-resources", "--api-group=heraldlb.io", "-o", "wide").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl api-resources: %v\n%s", err, out)
	}
	for _, want := range []string{"ipool", "l2adv", "bgpadv", "bgpp", "comm", "herald"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("api-resources lacks %q:\n%s", want, out)
		}
	}
}
