package speaker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

// Watches start and stop with the names wanted, and only the wanted
// Secrets' passwords are read.
func TestPasswordWatchesFollowTheNames(t *testing.T) {
	var objs []runtime.Object
	for _, n := range []string{"a", "b", "c"} {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: n}, Data: map[string][]byte{"password": []byte("pw-" + n)}})
	}
	cs := fake.NewClientset(objs...)
	p := newPasswordWatches(noWatchList{cs.CoreV1()}, logr.Discard(), func() {})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer p.stopAll()
	ref := func(n string) config.SecretRef { return config.SecretRef{Namespace: kube.Namespace, Name: n} }
	wait := func(want map[config.SecretRef]string) {
		t.Helper()
		testenv.Eventually(t, 10*time.Second, func() error { return samePasswords(p, want) })
	}
	p.want(ctx, []string{"a", "b"})
	wait(map[config.SecretRef]string{ref("a"): "pw-a", ref("b"): "pw-b"})
	p.want(ctx, []string{"b"})
	if len(p.watches) != 1 || p.watches["b"] == nil {
		t.Errorf("watches %v, want b's alone", maps.Keys(p.watches))
	}
	wait(map[config.SecretRef]string{ref("b"): "pw-b"})
	p.stopAll()
	if len(p.watches) != 0 {
		t.Errorf("%d watches left after stopAll", len(p.watches))
	}
}

// A password already read stays while its Secret turns unreadable (the
// grant is withdrawn, the apiserver refuses): an open session keeps its
// password and its routes. The test waits for the refused relist first.
func TestPasswordSurvivesAnUnreadableSecret(t *testing.T) {
	cs := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: "a"}, Data: map[string][]byte{"password": []byte("pw-a")}})
	var refuse atomic.Bool
	var refusedLists atomic.Int32
	forbidden := func(verb string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "a", fmt.Errorf("%s withdrawn", verb))
	}
	watchers := make(chan *watch.RaceFreeFakeWatcher, 10)
	cs.PrependWatchReactor("secrets", func(k8stesting.Action) (bool, watch.Interface, error) {
		if refuse.Load() {
			return true, nil, forbidden("watch")
		}
		w := watch.NewRaceFreeFake()
		watchers <- w
		return true, w, nil
	})
	cs.PrependReactor("list", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		if refuse.Load() {
			refusedLists.Add(1)
			return true, nil, forbidden("list")
		}
		return false, nil, nil
	})
	p := newPasswordWatches(noWatchList{cs.CoreV1()}, logr.Discard(), func() {})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer p.stopAll()
	want := map[config.SecretRef]string{{Namespace: kube.Namespace, Name: "a"}: "pw-a"}
	p.want(ctx, []string{"a"})
	w := <-watchers
	testenv.Eventually(t, 10*time.Second, func() error { return samePasswords(p, want) })

	refuse.Store(true)
	w.Stop() // the watch ends; the reflector's next list and watch are refused
	testenv.Eventually(t, 10*time.Second, func() error {
		if refusedLists.Load() == 0 {
			return errors.New("no list refused yet")
		}
		return nil
	})
	if got, refused := p.passwords(); !maps.Equal(got, want) || !refused[config.SecretRef{Namespace: kube.Namespace, Name: "a"}] {
		t.Errorf("after a refused relist (refused %v): passwords %v, want %v kept", refused, got, want)
	}
}

// noWatchList tells the reflector that the fake clientset cannot stream
// lists (client-go's fake clientset does, but not its typed clients).
type noWatchList struct{ corev1client.SecretsGetter }

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }

func samePasswords(p *passwordWatches, want map[config.SecretRef]string) error {
	if got, _ := p.passwords(); !maps.Equal(got, want) {
		return fmt.Errorf("passwords %v, want %v", got, want)
	}
	return nil
}
