package memberlistkey

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/liveness"
)

// ReasonInvalid is the reason of the Warning Event a speaker records on the
// memberlist Secret when it cannot use what the Secret holds.
const ReasonInvalid = "InvalidMemberlistKeyring"

// KeySetter is a running memberlist's keyring (liveness.Liveness).
type KeySetter interface {
	SetKeys(k liveness.Keys) error
}

// WatcherOptions configure a Watcher; all are required but Log.
type WatcherOptions struct {
	// Config and Scheme reach the apiserver for the Watcher's own cache.
	Config *rest.Config
	Scheme *runtime.Scheme
	// Name is the memberlist Secret's name, in Herald's namespace.
	Name string
	// Node is this speaker's node, named in the Events it records.
	Node     string
	Keys     KeySetter
	Recorder record.EventRecorder
	Log      logr.Logger
}

// Watcher applies the memberlist Secret's keyring to a running memberlist
// each time the Secret changes. It has its own cache, holding that one
// Secret only (list and watch by name, which RBAC's resourceNames allows),
// so it needs no access to the namespace's other Secrets.
type Watcher struct {
	o     WatcherOptions
	cache cache.Cache
	// seen is the resourceVersion last acted on; applied is the keyring in
	// use, from Read at start or the last good Secret. Run's goroutine owns
	// both.
	seen    string
	applied Keyring
	gone    bool
}

// NewWatcher builds the Watcher of a speaker that started on the keyring
// in use. It starts nothing: Run does.
func NewWatcher(o WatcherOptions, inUse Keyring) (*Watcher, error) {
	c, err := cache.New(o.Config, cache.Options{
		Scheme:                      o.Scheme,
		DefaultTransform:            cache.TransformStripManagedFields(),
		ReaderFailOnMissingInformer: true,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Namespaces: map[string]cache.Config{kube.Namespace: {}},
				Field:      fields.OneTermEqualSelector("metadata.name", o.Name),
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build the memberlist Secret's cache: %w", err)
	}
	return &Watcher{o: o, cache: c, applied: inUse}, nil
}

// Run watches the Secret until ctx ends, applying each new version. It
// returns early, with the error, if its cache stops.
func (w *Watcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var startErr error
	stopped := make(chan struct{})
	go func() {
		startErr = w.cache.Start(ctx)
		cancel()
		close(stopped)
	}()
	err := w.watch(ctx)
	cancel()
	<-stopped
	if startErr != nil {
		startErr = fmt.Errorf("run the memberlist Secret's cache: %w", startErr)
	}
	return errors.Join(err, startErr)
}

func (w *Watcher) watch(ctx context.Context) error {
	inf, err := w.cache.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch the memberlist Secret: %w", err)
	}
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	})
	if err != nil {
		return fmt.Errorf("watch the memberlist Secret: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			w.apply(ctx)
		}
	}
}

// apply reads the Secret from the cache and, if it is a new version, sets
// its keyring. Whatever goes wrong, the keyring in use stays: a speaker
// never gossips in the clear, and a bad edit must not cut it off.
func (w *Watcher) apply(ctx context.Context) {
	log := w.o.Log.WithValues("secret", kube.Namespace+"/"+w.o.Name)
	var sec corev1.Secret
	err := w.cache.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: w.o.Name}, &sec)
	if apierrors.IsNotFound(err) {
		if !w.gone {
			log.Error(err, "the memberlist Secret is gone; keeping the keyring in use", "keys", w.applied.String())
		}
		w.gone, w.seen = true, ""
		return
	}
	if err != nil {
		log.Error(err, "cannot read the memberlist Secret; keeping the keyring in use", "keys", w.applied.String())
		return
	}
	w.gone = false
	if sec.ResourceVersion == w.seen {
		return
	}
	w.seen = sec.ResourceVersion
	k, err := Parse(sec.Data)
	if err == nil {
		err = w.o.Keys.SetKeys(k.Keys)
	}
	if err != nil {
		log.Error(err, "cannot use the memberlist Secret; keeping the keyring in use", "keys", w.applied.String(), "resourceVersion", sec.ResourceVersion)
		w.o.Recorder.Eventf(&sec, corev1.EventTypeWarning, ReasonInvalid,
			"speaker on node %s keeps its memberlist keyring (%s): %v", w.o.Node, w.applied, err)
		return
	}
	w.applied = k
	log.Info("memberlist keyring applied", "keys", k.String(), "resourceVersion", sec.ResourceVersion)
}
