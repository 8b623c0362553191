package cli

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// create creates objs on the test apiserver and deletes them when the test
// (or case) ends: the tests share one apiserver, and the next must not see
// this one's cluster-scoped objects.
func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	ctx := context.Background()
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
		t.Cleanup(func() {
			if err := env.Client.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("delete %T %s: %v", o, o.GetName(), err)
			}
		})
	}
}
