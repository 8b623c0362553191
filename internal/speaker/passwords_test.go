package speaker

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
)

// Watches start and stop with the names wanted, and only the wanted
// Secrets' passwords are read.
func TestPasswordWatchesFollowTheNames(t *testing.T) {
	var objs []runtime.Object
	for _, n := range []string{"a", "b", "c"} {
		objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: kube.Namespace, Name: n}, Data: map[string][]byte{"password": []byte("pw-" + n)}})
	}
	cs := fake.NewClientset(objs...)
	changed := make(chan struct{}, 100)
	p := newPasswordWatches(noWatchList{cs.CoreV1()}, logr.Discard(), func() { changed <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer p.stopAll()
	ref := func(n string) config.SecretRef { return config.SecretRef{Namespace: kube.Namespace, Name: n} }
	wait := func(want map[config.SecretRef]string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			if got := p.passwords(); maps.Equal(got, want) {
				return
			}
			select {
			case <-changed:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("passwords %v, want %v", p.passwords(), want)
			}
		}
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

// noWatchList tells the reflector that the fake clientset cannot stream
// lists (client-go's fake clientset does, but not its typed clients).
type noWatchList struct{ corev1client.SecretsGetter }

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }
