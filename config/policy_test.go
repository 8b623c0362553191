package config_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	kind string
	raw  []byte
}

func readDocs(t *testing.T, path string) []doc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []doc
	for {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		if meta.Kind != "" {
			out = append(out, doc{file: filepath.Base(path), kind: meta.Kind, raw: raw})
		}
	}
}

// rbacDocs are the RBAC objects of config/rbac and of the rendered
// manifest: the test checks both the source and what users install.
func rbacDocs(t *testing.T) []doc {
	root := testenv.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "config", "rbac", "*.yaml"))
	files = append(files, filepath.Join(root, "manifests", "herald.yaml"))
	var out []doc
	for _, f := range files {
		for _, d := range readDocs(t, f) {
			switch d.kind {
			case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
				out = append(out, d)
			}
		}
	}
	return out
}

var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}

// checkRule returns what is wrong with one rule of a role; namespace is ""
// for a ClusterRole.
func checkRule(r rbacv1.PolicyRule, namespace string) []string {
	var bad []string
	for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames, r.NonResourceURLs} {
		for _, v := range list {
			if strings.Contains(v, "*") {
				bad = append(bad, "wildcard "+v)
			}
		}
	}
	core := slices.Contains(r.APIGroups, "")
	writes := slices.ContainsFunc(r.Verbs, func(v string) bool { return slices.Contains(writeVerbs, v) })
	for _, res := range r.Resources {
		switch {
		case core && writes && strings.HasPrefix(res, "services") && res != "services/status":
			bad = append(bad, "writes "+res+": only services/status may be written (it carries the annotation too)")
		case core && strings.HasPrefix(res, "secrets") && namespace != kube.Namespace:
			bad = append(bad, "Secret access outside "+kube.Namespace)
		case slices.Contains(r.APIGroups, "coordination.k8s.io") && res == "leases" && namespace != kube.Namespace:
			bad = append(bad, "Lease access outside "+kube.Namespace)
		}
	}
	return bad
}

// TestRBACIsLeastPrivilege checks both roles' files: no wildcard, no write
// to Services beyond their status, Secrets and Leases only in Herald's
// namespace, and bindings that keep it so.
func TestRBACIsLeastPrivilege(t *testing.T) {
	docs := rbacDocs(t)
	roles := map[string]int{}
	for _, d := range docs {
		switch d.kind {
		case "Role", "ClusterRole":
			var role rbacv1.Role // a ClusterRole has the same shape, without a namespace
			if err := yaml.UnmarshalStrict(d.raw, &role); err != nil {
				t.Fatalf("%s: decode %s: %v", d.file, d.kind, err)
			}
			ns := role.Namespace
			if d.kind == "Role" && ns != kube.Namespace {
				t.Errorf("%s: Role %s is in namespace %q, want %s", d.file, role.Name, ns, kube.Namespace)
			}
			if d.kind == "ClusterRole" {
				ns = ""
			}
			roles[d.kind+"/"+role.Name]++
			for i, r := range role.Rules {
				for _, b := range checkRule(r, ns) {
					t.Errorf("%s: %s %s rule %d: %s", d.file, d.kind, role.Name, i, b)
				}
				// The speaker, on every node, reads Secrets only by name
				// (the controller keeps herald-speaker-secrets' names).
				if strings.HasPrefix(role.Name, "herald-speaker") && slices.Contains(r.Resources, "secrets") && len(r.ResourceNames) == 0 {
					t.Errorf("%s: %s %s rule %d: grants every Secret to the speaker, want resourceNames", d.file, d.kind, role.Name, i)
				}
			}
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.RoleBinding
			if err := yaml.UnmarshalStrict(d.raw, &b); err != nil {
				t.Fatalf("%s: decode %s: %v", d.file, d.kind, err)
			}
			if b.RoleRef.Kind == "ClusterRole" && slices.Contains([]string{"cluster-admin", "admin", "edit"}, b.RoleRef.Name) {
				t.Errorf("%s: %s %s binds the built-in role %s", d.file, d.kind, b.Name, b.RoleRef.Name)
			}
			if d.kind == "RoleBinding" && b.Namespace != kube.Namespace {
				t.Errorf("%s: RoleBinding %s in namespace %q", d.file, b.Name, b.Namespace)
			}
		}
	}
	for _, want := range []string{"ClusterRole/herald-controller", "ClusterRole/herald-speaker", "Role/herald-controller-leader-election", "Role/herald-speaker-secrets"} {
		if roles[want] < 2 {
			t.Errorf("%s is checked in %d files, want config/rbac and the manifest", want, roles[want])
		}
	}
}

// TestPolicyCatchesViolations: the checks above fail on what they exist to
// catch.
func TestPolicyCatchesViolations(t *testing.T) {
	tests := []struct {
		name string
		rule rbacv1.PolicyRule
		ns   string
	}{
		{"wildcard verb", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"*"}}, ""},
		{"wildcard resource", rbacv1.PolicyRule{APIGroups: []string{"heraldlb.io"}, Resources: []string{"*"}, Verbs: []string{"get"}}, ""},
		{"wildcard group", rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"leases"}, Verbs: []string{"get"}}, kube.Namespace},
		{"service spec write", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"patch"}}, ""},
		{"service delete", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services"}, Verbs: []string{"delete"}}, ""},
		{"secrets cluster-wide", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}, ""},
		{"secrets elsewhere", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}}, "default"},
		{"leases cluster-wide", rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get"}}, ""},
	}
	for _, tt := range tests {
		if bad := checkRule(tt.rule, tt.ns); len(bad) == 0 {
			t.Errorf("%s: passed the policy", tt.name)
		}
	}
	ok := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services/status"}, Verbs: []string{"patch"}}
	if bad := checkRule(ok, ""); len(bad) > 0 {
		t.Errorf("patching services/status refused: %v", bad)
	}
}

// TestControllerDeploymentIsHardened checks the Deployment users install.
// manifestObject is the object of kind and name in manifests/herald.yaml.
func manifestObject[T any, PT interface {
	*T
	GetName() string
}](t *testing.T, kind, name string) PT {
	t.Helper()
	for _, d := range readDocs(t, filepath.Join(testenv.RepoRoot(), "manifests", "herald.yaml")) {
		if d.kind != kind {
			continue
		}
		x := PT(new(T))
		if err := yaml.UnmarshalStrict(d.raw, x); err != nil {
			t.Fatal(err)
		}
		if x.GetName() == name {
			return x
		}
	}
	t.Fatalf("manifests/herald.yaml has no %s %s", name, kind)
	return nil
}

// checkContainerLocked wants a read-only root, no privilege escalation, not
// privileged, and every capability dropped but add.
func checkContainerLocked(t *testing.T, sc *corev1.SecurityContext, add []corev1.Capability) {
	t.Helper()
	switch {
	case sc == nil:
		t.Fatal("container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("privilege escalation allowed")
	case sc.Privileged != nil && *sc.Privileged:
		t.Errorf("privileged")
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || !slices.Equal(sc.Capabilities.Add, add):
		t.Errorf("capabilities = %+v, want ALL dropped and only %v added", sc.Capabilities, add)
	}
}

func TestControllerDeploymentIsHardened(t *testing.T) {
	dep := manifestObject[appsv1.Deployment](t, "Deployment", "herald-controller")
	pod := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Errorf("replicas = %v, want at least 2 for failover", dep.Spec.Replicas)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod does not require a non-root user: %+v", pod.SecurityContext)
	}
	if pod.HostNetwork {
		t.Errorf("the controller needs no host network")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	checkContainerLocked(t, c.SecurityContext, nil)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			t.Errorf("no %s request", r)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Errorf("no memory limit")
	}
	// Metrics and probes on separate ports: the probes answer anyone, the
	// metrics only authorized callers.
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--metrics-bind-address=:8443") || strings.Contains(args, "--metrics-secure=false") {
		t.Errorf("metrics are not served over HTTPS on :8443: %s", args)
	}
	if !strings.Contains(args, "--health-probe-bind-address=:8081") {
		t.Errorf("probes are not on :8081: %s", args)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "health" {
			t.Errorf("probe %+v is not on the health port", p)
		}
	}
}

// The speaker needs the host network and NET_RAW; everything else is taken
// away, and it is not evicted before the workloads it announces.
func TestSpeakerDaemonSetIsHardened(t *testing.T) {
	ds := manifestObject[appsv1.DaemonSet](t, "DaemonSet", "herald-speaker")
	pod := ds.Spec.Template.Spec
	if psc := pod.SecurityContext; psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccomp profile is not RuntimeDefault: %+v", psc)
	}
	if pod.PriorityClassName == "" {
		t.Errorf("no priorityClassName: the speaker could be evicted before the workloads it announces")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	checkContainerLocked(t, c.SecurityContext, []corev1.Capability{"NET_RAW"})
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Errorf("no memory limit")
	}
	// On the host network the metrics port is open to the node's network:
	// only authorized callers, over HTTPS (metricsserve), may read it.
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--metrics-bind-address=:7472") || strings.Contains(args, "--metrics-secure=false") {
		t.Errorf("metrics are not served over HTTPS on :7472: %s", args)
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "https-metrics" && p.ContainerPort == 7472 }) {
		t.Errorf("no port https-metrics 7472: %+v", c.Ports)
	}
}
