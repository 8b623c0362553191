package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/internal/testenv"
)

// checkFieldList checks internal/migrate/testdata/metallb-fields.txt, the
// list of MetalLB's spec fields that the converter's test covers, against
// MetalLB's CRDs in dir, so that a MetalLB upgrade cannot add a field that
// the migration drops without a word.
func checkFieldList(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", dir, err)
	}
	var got []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if strings.HasPrefix(crd.Spec.Names.Kind, "Service") {
			continue // ServiceL2Status and ServiceBGPStatus are reports
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			spec := v.Schema.OpenAPIV3Schema.Properties["spec"]
			for _, p := range leafPaths(spec, "spec") {
				got = append(got, crd.Spec.Names.Kind+" "+v.Name+" "+p)
			}
		}
	}
	list, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "internal", "migrate", "testdata", "metallb-fields.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range strings.Split(string(list), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			want = append(want, l)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("internal/migrate/testdata/metallb-fields.txt is not MetalLB's field list; MetalLB's CRDs have:\n%s", strings.Join(got, "\n"))
	}
}

func leafPaths(s apiextensionsv1.JSONSchemaProps, prefix string) []string {
	if s.Type == "array" && s.Items != nil && s.Items.Schema != nil {
		return leafPaths(*s.Items.Schema, prefix+"[]")
	}
	if len(s.Properties) == 0 {
		return []string{prefix}
	}
	var out []string
	for name, p := range s.Properties {
		out = append(out, leafPaths(p, prefix+"."+name)...)
	}
	return out
}
