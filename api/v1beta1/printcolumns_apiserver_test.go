package v1beta1_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

// stateColumn is the column that shows the state of a kind whose main
// condition is not Ready.
var stateColumn = map[string]string{"serviceannouncements.heraldlb.io": "Announced"}

// TestEveryCRDShowsItsState checks that `kubectl get` of every kind shows
// more than a name: each has an Age column, and each kind with a Ready
// condition shows it.
func TestEveryCRDShowsItsState(t *testing.T) {
	testenv.Require(t, env)
	crds := &unstructured.UnstructuredList{}
	crds.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinitionList"})
	if err := env.Client.List(context.Background(), crds); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, crd := range crds.Items {
		if group, _, _ := unstructured.NestedString(crd.Object, "spec", "group"); group != v1beta1.GroupVersion.Group {
			continue
		}
		seen++
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		var names []string
		for _, v := range versions {
			cols, _, _ := unstructured.NestedSlice(v.(map[string]any), "additionalPrinterColumns")
			for _, c := range cols {
				names = append(names, c.(map[string]any)["name"].(string))
			}
		}
		state := "Ready"
		if c, ok := stateColumn[crd.GetName()]; ok {
			state = c
		}
		if !slices.Contains(names, state) || !slices.Contains(names, "Age") || len(names) < 3 {
			t.Errorf("%s: printer columns %v, want %s, Age and at least one more", crd.GetName(), names, state)
		}
	}
	if seen < 6 {
		t.Errorf("saw %d of Herald's CRDs", seen)
	}
}

// TestAdvertisementReadyColumn: `kubectl get l2adv,bgpadv` shows each
// advertisement's Ready condition, and -o wide its reason.
func TestAdvertisementReadyColumn(t *testing.T) {
	testenv.Require(t, env)
	ctx := context.Background()
	cond := []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "UnknownPool", Message: "no pool", LastTransitionTime: metav1.Now()}}
	l2 := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "columns-l2"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"nosuch"}}}
	bgp := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "columns-bgp"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"nosuch"}}}
	for _, o := range []client.Object{l2, bgp} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(ctx, o) })
	}
	l2.Status.Conditions, bgp.Status.Conditions = cond, cond
	if err := env.Client.Status().Update(ctx, l2); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Status().Update(ctx, bgp); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ args, want []string }{
		{[]string{"get", "l2advertisements", "columns-l2"}, []string{`(?m)^NAME\s+POOLS\s+INTERFACES\s+READY\s+AGE$`, `(?m)^columns-l2\s+\["nosuch"\]\s+False\s+\S+$`}},
		{[]string{"get", "bgpadvertisements", "columns-bgp", "-o", "wide"}, []string{`(?m)^columns-bgp\s+\["nosuch"\]\s+.*False\s+UnknownPool\s+\S+$`}},
	} {
		out, err := env.Kubectl(tt.args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", tt.args, err, out)
		}
		for _, w := range tt.want {
			if !regexp.MustCompile(w).Match(out) {
				t.Errorf("kubectl %v lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
}
