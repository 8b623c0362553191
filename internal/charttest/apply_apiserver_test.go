package charttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}, &env) }

// notApplied are the kinds whose CRDs (the Prometheus operator's) the test
// apiserver lacks; their render is still parsed and checked by TestValueSets.
var notApplied = map[string]bool{"ServiceMonitor": true, "PrometheusRule": true}

// TestApplyEveryValueSet applies the CRDs, then every object of every value
// set, with server-side apply and strict field validation, so that a field
// the apiserver does not know fails here rather than at install.
func TestApplyEveryValueSet(t *testing.T) {
	testenv.Require(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := loadChart(t)
	dyn := dynamic.NewForConfigOrDie(env.Config)
	for _, f := range c.CRDObjects() {
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(f.File.Data, &crd.Object); err != nil {
			t.Fatalf("%s: %v", f.Filename, err)
		}
		apply(ctx, t, dyn, nil, crd)
	}
	waitEstablished(ctx, t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(env.Config)))
	var applied []*unstructured.Unstructured
	for _, vs := range valueSets() {
		for _, o := range render(t, c, vs.vals) {
			if notApplied[o.GetKind()] {
				continue
			}
			apply(ctx, t, dyn, mapper, o)
			applied = append(applied, o)
		}
	}
	// The helm lifecycle test installs the same cluster-scoped objects
	// under its own release.
	for _, o := range applied {
		if err := resource(t, dyn, mapper, o).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete %s: %v", key(o), err)
		}
	}
}

func apply(ctx context.Context, t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, o *unstructured.Unstructured) {
	t.Helper()
	data, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// Forced: testenv created the CRDs already, under another manager.
	opts := metav1.PatchOptions{FieldManager: "charttest", FieldValidation: "Strict", Force: ptr.To(true)}
	if _, err := resource(t, dyn, mapper, o).Patch(ctx, o.GetName(), types.ApplyPatchType, data, opts); err != nil {
		t.Errorf("apply %s: %v", key(o), err)
	}
}

// resource is o's endpoint; with no mapper, o is a CRD.
func resource(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, o *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := o.GroupVersionKind()
	res := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	if mapper != nil {
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("map %s: %v", key(o), err)
		}
		res = m.Resource
	}
	if ns := o.GetNamespace(); ns != "" {
		return dyn.Resource(res).Namespace(ns)
	}
	return dyn.Resource(res)
}

func waitEstablished(ctx context.Context, t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error { return chartCRDsEstablished(ctx, t) })
}

// chartCRDsEstablished says which CRD of the chart's crds/ is missing, not
// established or being deleted, if any.
func chartCRDsEstablished(ctx context.Context, t *testing.T) error {
	t.Helper()
	var errs []error
	for _, f := range loadChart(t).CRDObjects() {
		name := crdName(t, f.File.Data)
		crd, err := crdClient().Get(ctx, name, metav1.GetOptions{})
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("CRD %s: %w", name, err))
		case !established(*crd):
			errs = append(errs, fmt.Errorf("CRD %s is not established", name))
		case crd.DeletionTimestamp != nil:
			// helm uninstall does not wait: a deleted CRD is still
			// established while it terminates.
			errs = append(errs, fmt.Errorf("CRD %s is being deleted", name))
		}
	}
	return errors.Join(errs...)
}

func crdClient() apiextclient.CustomResourceDefinitionInterface {
	return apiextclient.NewForConfigOrDie(env.Config).CustomResourceDefinitions()
}

func established(crd apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}
