package memberlistkey

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/liveness"
	"github.com/heraldlb/herald/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	testenv.Main(m, testenv.Options{}, &env)
}

// fakeKeys records every keyring it is given, as the key names of this
// test (see named).
type fakeKeys struct {
	mu   sync.Mutex
	sets []liveness.Keys
}

func (f *fakeKeys) SetKeys(k liveness.Keys) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, k)
	return nil
}

// calls are the keyrings set so far, named.
func (f *fakeKeys) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, k := range f.sets {
		out = append(out, named(k))
	}
	return out
}

func (f *fakeKeys) keys() []liveness.Keys {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sets)
}

// named writes a keyring of the test keys as "A+B": primary, then the
// secondaries in order; a key of none of them is "?".
func named(k liveness.Keys) string {
	name := func(v []byte) string {
		for n, s := range map[string]string{"A": keyA, "B": keyB, "C": keyC} {
			if string(v) == string(sum(s)) {
				return n
			}
		}
		return "?"
	}
	out := name(k.Primary)
	for _, s := range k.Secondary {
		out += "+" + name(s)
	}
	return out
}

func ensureNamespace(t *testing.T) {
	t.Helper()
	testenv.Require(t, env)
	err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kube.Namespace}})
	if client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
}

type harness struct {
	t    *testing.T
	c    client.Client
	name string
	keys *fakeKeys
	rec  *record.FakeRecorder
	logs *testenv.LogLines
	w    *Watcher
}

// startWatcher writes the Secret name with data, and runs a watcher of it
// as an admin.
func startWatcher(t *testing.T, name string, data map[string]string) *harness {
	t.Helper()
	testenv.Require(t, env)
	return startWatcherAs(t, env.Config, name, data)
}

// startWatcherAs is startWatcher with the watcher reaching the apiserver
// through cfg.
func startWatcherAs(t *testing.T, cfg *rest.Config, name string, data map[string]string) *harness {
	t.Helper()
	ensureNamespace(t)
	ctx := context.Background()
	c := env.Client
	h := &harness{t: t, c: c, name: name, keys: &fakeKeys{}, rec: record.NewFakeRecorder(20), logs: &testenv.LogLines{}}
	h.put(data)
	t.Cleanup(func() {
		_ = c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: name}})
	})
	inUse, err := Read(ctx, c, name)
	if err != nil {
		t.Fatal(err)
	}
	h.w, err = NewWatcher(WatcherOptions{Config: cfg, Scheme: c.Scheme(), Name: name, Node: "node1",
		Keys: h.keys, Recorder: h.rec, Log: h.logs.Logger(0)}, inUse)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.w.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of its context ending")
		}
	})
	return h
}

// put creates or replaces the Secret's data.
func (h *harness) put(data map[string]string) {
	h.t.Helper()
	ctx := context.Background()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: h.name}}
	err := h.c.Get(ctx, client.ObjectKeyFromObject(sec), sec)
	sec.Data, sec.StringData = toData(data), nil
	if err == nil {
		err = h.c.Update(ctx, sec)
	} else {
		err = h.c.Create(ctx, sec)
	}
	if err != nil {
		h.t.Fatalf("write Secret %s: %v", h.name, err)
	}
}

// waitCalls waits until the watcher has set exactly want, in order.
func (h *harness) waitCalls(want ...string) {
	h.t.Helper()
	testenv.Eventually(h.t, 10*time.Second, func() error {
		if got := h.keys.calls(); !slices.Equal(got, want) {
			return fmt.Errorf("SetKeys calls %v, want %v", got, want)
		}
		return nil
	})
}

// TestWatcherFollowsTheRotation edits the Secret through the three steps of
// a rotation, as docs/real-nodes.md has the user do, and checks that the
// watcher hands each keyring to memberlist.
func TestWatcherFollowsTheRotation(t *testing.T) {
	h := startWatcher(t, "herald-memberlist-rotation", map[string]string{"secretkey": keyA})
	h.waitCalls("A")
	h.put(map[string]string{"secretkey": keyA, "secretkey.next": keyB})
	h.waitCalls("A", "A+B")
	h.put(map[string]string{"secretkey": keyB, "secretkey.old": keyA})
	h.waitCalls("A", "A+B", "B+A")
	h.put(map[string]string{"secretkey": keyB})
	h.waitCalls("A", "A+B", "B+A", "B")
	for _, keys := range []string{`"keys"="secretkey (primary)"`, `"keys"="secretkey (primary), secretkey.old"`} {
		if _, ok := h.logs.Find("memberlist keyring applied", keys); !ok {
			t.Errorf("no log line names the keyring %s by data key:\n%s", keys, h.logs)
		}
	}
}

// TestWatcherKeepsTheKeyring: an invalid Secret, or none, never changes the
// keyring in use; the speaker says why, and takes the next good version.
func TestWatcherKeepsTheKeyring(t *testing.T) {
	h := startWatcher(t, "herald-memberlist-invalid", map[string]string{"secretkey": keyA})
	h.waitCalls("A")

	h.put(map[string]string{"secretkey": keyA, "secretkey.next": "short"})
	// Proof that the watcher has seen the version: its Event.
	select {
	case e := <-h.rec.Events:
		for _, s := range []string{"Warning", ReasonInvalid, "node1", "keeps its memberlist keyring (secretkey (primary))", `"secretkey.next" holds 5 bytes`} {
			if !strings.Contains(e, s) {
				t.Errorf("event %q does not say %q", e, s)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Event for an invalid Secret")
	}
	h.waitCalls("A")

	h.put(map[string]string{"secretkey": "short"})
	select {
	case e := <-h.rec.Events:
		if !strings.Contains(e, `"secretkey" holds 5 bytes`) {
			t.Errorf("event %q does not name the short primary", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Event for a Secret with a short primary")
	}
	h.waitCalls("A")

	if err := h.c.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: h.name}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		if _, ok := h.logs.Find("the memberlist Secret is gone; keeping the keyring in use"); !ok {
			return fmt.Errorf("no log line for the deleted Secret")
		}
		return nil
	})
	h.waitCalls("A")

	h.put(map[string]string{"secretkey": keyC})
	h.waitCalls("A", "C")
}

// TestWatcherCachesOnlyItsSecret: the watcher's cache holds the memberlist
// Secret and no other of the namespace, not even one that exists before it
// lists.
func TestWatcherCachesOnlyItsSecret(t *testing.T) {
	ensureNamespace(t)
	ctx := context.Background()
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "bgp-password-only"}, StringData: map[string]string{"password": "x"}}
	if err := env.Client.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(ctx, other) })
	h := startWatcher(t, "herald-memberlist-only", map[string]string{"secretkey": keyA})
	// The cache has synced: the Secret's keyring has come through it.
	h.waitCalls("A")
	var list corev1.SecretList
	if err := h.w.cache.List(context.Background(), &list, client.InNamespace(kube.Namespace)); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list.Items {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{h.name}) {
		t.Errorf("the watcher's cache holds %v, want only %s", names, h.name)
	}
}
