package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/testenv"
)

const badNS = "badinput"

// TestBadInput feeds the running controller invalid and conflicting
// objects: every file of api/v1beta1/testdata/invalid, which the apiserver
// must refuse, the cases of testdata/badinput, which it admits and which
// must end in a condition or an Event, and three cases that take steps (a
// pool deleted while in use, a pool edited away from the IPs in use, an
// assigned Service given a malformed annotation). Nothing may crash a
// replica, fail a reconcile, or change an IP the bystanders hold.
func TestBadInput(t *testing.T) {
	testenv.Require(t, env)
	newNamespace(t, badNS)
	newNamespace(t, "elsewhere")
	a, b := startController(t, "bad-a"), startController(t, "bad-b")
	createPool(t, badNS, "bi-base", []string{"198.51.100.0/27", "2001:db8:b0::/112"})
	createPool(t, badNS, "bi-v4only", []string{"198.51.100.64/28"}, manualPool)
	createPool(t, "elsewhere", "bi-elsewhere", []string{"2001:db8:b5::/120"}, manualPool)
	createPool(t, badNS, "bi-doomed", []string{"2001:db8:b6::/120"}, manualPool)
	createPool(t, badNS, "bi-edit", []string{"2001:db8:b7::/120"}, manualPool)
	leaderOf(t, time.Minute, a, b)
	ctx := context.Background()

	// The bystanders: their IPs must not change, whatever follows.
	bystanders := []*corev1.Service{
		lbService(badNS, "by-pinned", withAnnotation(config.AnnotationLoadBalancerIPs, "2001:db8:b0::99")),
		lbService(badNS, "by-shared", withAnnotation(config.AnnotationAllowSharedIP, "k"), withAnnotation(config.AnnotationLoadBalancerIPs, "2001:db8:b0::88")),
		lbService(badNS, "by-doomed", withAnnotation(config.AnnotationAddressPool, "bi-doomed")),
		lbService(badNS, "by-edited", withAnnotation(config.AnnotationAddressPool, "bi-edit")),
		lbService(badNS, "by-v4", ipv4),
	}
	for i := range 5 {
		bystanders = append(bystanders, lbService(badNS, fmt.Sprintf("by-auto-%d", i)))
	}
	if err := createServices(ctx, bystanders); err != nil {
		t.Fatal(err)
	}
	waitAllocated(t, badNS, len(bystanders), time.Minute)
	held := map[string][]string{}
	for _, s := range bystanders {
		held[s.Name] = serviceIPs(t, s.Name)
	}

	cases := 0
	t.Run("refused by the apiserver", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "api", "v1beta1", "testdata", "invalid", "*.yaml"))
		for _, f := range files {
			cases++
			objs, err := testenv.ReadObjects(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectLines(t, f, "# expect: ")
			err = env.Client.Create(ctx, objs[0])
			if err == nil {
				t.Errorf("%s: admitted", filepath.Base(f))
				continue
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: refused with %v, without %q", filepath.Base(f), err, w)
				}
			}
		}
	})

	var created []client.Object
	t.Cleanup(func() {
		for _, o := range created {
			if o.GetNamespace() == "" {
				deletePool(t, o.GetName())
			}
		}
	})
	t.Run("admitted and flagged", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join("testdata", "badinput", "*.yaml"))
		for _, f := range files {
			cases++
			objs, err := testenv.ReadObjects(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				if o.GetKind() == "Service" {
					o.SetNamespace(badNS)
				}
				if err := env.Client.Create(ctx, o); err != nil {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
				created = append(created, o)
			}
		}
		for _, f := range files {
			checkExpectations(t, f)
		}
	})

	t.Run("a pool deleted while in use", func(t *testing.T) {
		cases++
		deletePoolAsync(t, "bi-doomed")
		waitCondition(t, "bi-doomed", "Deleting", "True", "InUse")
		late := lbService(badNS, "bi-late", withAnnotation(config.AnnotationAddressPool, "bi-doomed"))
		if _, err := cs.CoreV1().Services(badNS).Create(ctx, late, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, "bi-late", "AllocationFailed", `pool "bi-doomed" is being deleted`)
	})
	t.Run("a pool edited away from the IPs in use", func(t *testing.T) {
		cases++
		patchPool(t, "bi-edit", map[string]any{"spec": map[string]any{"addresses": []string{"2001:db8:b7::100/120"}}})
		waitEvent(t, "by-edited", "AddressOrphaned", held["by-edited"][0])
		waitCondition(t, "bi-edit", "AddressesOrphaned", "True", "AddressesOutsidePool")
	})
	t.Run("an assigned Service given a malformed annotation", func(t *testing.T) {
		cases++
		annotate(t, "by-auto-0", config.AnnotationLoadBalancerIPs, "nope")
		waitEvent(t, "by-auto-0", "AllocationFailed", `"nope" is not an IP address`)
		annotate(t, "by-auto-0", config.AnnotationLoadBalancerIPs, nil)
	})
	t.Logf("%d bad inputs", cases)
	if cases < 30 {
		t.Errorf("only %d bad inputs, want at least 30", cases)
	}

	for name, ips := range held {
		if got := serviceIPs(t, name); !slices.Equal(got, ips) {
			t.Errorf("bystander %s: IPs %v became %v", name, ips, got)
		}
	}
	for _, c := range []*controller{a, b} {
		if x := c.unexpectedExits(); len(x) > 0 {
			t.Errorf("%s exited: %v", c.name, x)
		}
		m, err := c.scrape(ctx)
		if err != nil {
			t.Errorf("scrape %s: %v", c.name, err)
			continue
		}
		if n := metric(m, "herald_controller_reconciles_total", "result", "error"); n > 0 {
			t.Errorf("%s: %v reconciles failed", c.name, n)
		}
	}
}

// expectLines returns the text after prefix on the lines of a file.
func expectLines(t *testing.T, path, prefix string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

// checkExpectations waits for what a testdata/badinput file expects.
func checkExpectations(t *testing.T, path string) {
	t.Helper()
	name := filepath.Base(path)
	n := 0
	for _, line := range expectLines(t, path, "# expect-") {
		kind, rest, _ := strings.Cut(line, ": ")
		f := strings.Fields(rest)
		obj := strings.TrimPrefix(strings.TrimPrefix(f[0], "Service/"), "IPAddressPool/")
		n++
		switch kind {
		case "condition":
			waitCondition(t, obj, f[1], f[2], f[3])
		case "event":
			waitEvent(t, obj, f[1], strings.Join(f[2:], " "))
		case "ip":
			eventually(t, 30*time.Second, func() error {
				if got := serviceIPs(t, obj); !slices.Equal(got, f[1:]) {
					return fmt.Errorf("%s: %s has %v, want %v", name, obj, got, f[1:])
				}
				return nil
			})
		case "untouched":
			waitReconciledUntouched(t, obj)
		default:
			t.Errorf("%s: unknown expectation %q", name, line)
		}
	}
	if n == 0 {
		t.Errorf("%s expects nothing", name)
	}
}

func serviceIPs(t *testing.T, name string) []string {
	t.Helper()
	svc, err := cs.CoreV1().Services(badNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ipsOf(svc)
}

func waitCondition(t *testing.T, pool, typ, status, reason string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		var p v1beta1.IPAddressPool
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: pool}, &p); err != nil {
			return err
		}
		c := meta.FindStatusCondition(p.Status.Conditions, typ)
		if c == nil || string(c.Status) != status || c.Reason != reason {
			return fmt.Errorf("pool %s condition %s = %+v, want %s %s", pool, typ, c, status, reason)
		}
		return nil
	})
}

func serviceEvents(t *testing.T, name string) []corev1.Event {
	t.Helper()
	list, err := cs.CoreV1().Events(badNS).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func waitEvent(t *testing.T, svc, reason, substr string) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		var seen []string
		for _, e := range serviceEvents(t, svc) {
			if e.Reason == reason && strings.Contains(e.Message, substr) {
				return nil
			}
			seen = append(seen, e.Reason+": "+e.Message)
		}
		return fmt.Errorf("no %s Event on %s containing %q; seen %q", reason, svc, substr, seen)
	})
}

// waitReconciledUntouched checks that a Service of another class gets
// nothing: the positive signal is a later Service of ours, created after
// it, allocated; the replicas reconcile in order, so by then it has been
// seen.
func waitReconciledUntouched(t *testing.T, name string) {
	t.Helper()
	marker := lbService(badNS, name+"-after")
	if _, err := cs.CoreV1().Services(badNS).Create(context.Background(), marker, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		if len(serviceIPs(t, marker.Name)) == 0 {
			return fmt.Errorf("%s not allocated yet", marker.Name)
		}
		return nil
	})
	svc, err := cs.CoreV1().Services(badNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ipsOf(svc)) > 0 || svc.Annotations[config.AnnotationAllocatedFromPool] != "" {
		t.Errorf("%s of another class was written to: %v %v", name, ipsOf(svc), svc.Annotations)
	}
	if ev := serviceEvents(t, name); len(ev) > 0 {
		t.Errorf("%s of another class got Events: %v", name, ev)
	}
}

func patchPool(t *testing.T, name string, body map[string]any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	p := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Patch(context.Background(), p, client.RawPatch(types.MergePatchType, data)); err != nil {
		t.Fatal(err)
	}
}

func annotate(t *testing.T, svc, key string, value any) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{key: value}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(badNS).Patch(context.Background(), svc, types.MergePatchType, data, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// deletePoolAsync asks for a pool's deletion without waiting for it.
func deletePoolAsync(t *testing.T, name string) {
	t.Helper()
	p := &unstructured.Unstructured{}
	p.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("IPAddressPool"))
	p.SetName(name)
	if err := env.Client.Delete(context.Background(), p); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

// deletePool deletes a pool and waits until it is gone.
func deletePool(t *testing.T, name string) {
	t.Helper()
	deletePoolAsync(t, name)
	eventually(t, 2*time.Minute, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &v1beta1.IPAddressPool{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("pool %s still there (%v)", name, err)
		}
		return nil
	})
}
