package speaker

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
)

// passwordWatches watches, each by name, the Secrets that BGPPeers take
// their passwords from: a list and watch with the field selector
// metadata.name=<name>, which a Role restricted to resourceNames allows.
// The speaker never lists the Secrets of its namespace. Only the loop's
// goroutine calls want and passwords.
type passwordWatches struct {
	api     corev1client.SecretsGetter
	log     logr.Logger
	changed func()
	watches map[string]*secretWatch
}

// secretWatch is one Secret's informer. Its store keeps the last Secret
// read while the watch fails (say, while the speaker may not read it yet
// or the apiserver is away), so an open session keeps its password.
type secretWatch struct {
	store toolscache.Store
	stop  context.CancelFunc
	// refused is set while the apiserver refuses to list the Secret to
	// this speaker, for the problem to say why there is no password.
	refused *atomic.Bool
	// synced reports whether the informer has listed the Secret once.
	synced toolscache.InformerSynced
}

func newPasswordWatches(api corev1client.SecretsGetter, log logr.Logger, changed func()) *passwordWatches {
	return &passwordWatches{api: api, log: log, changed: changed, watches: map[string]*secretWatch{}}
}

// want starts the watches of names not watched yet and stops those of
// Secrets no longer named; ctx bounds the watches it starts.
func (p *passwordWatches) want(ctx context.Context, names []string) {
	for name, w := range p.watches {
		if !slices.Contains(names, name) {
			w.stop()
			delete(p.watches, name)
		}
	}
	for _, name := range names {
		if p.watches[name] == nil {
			p.watches[name] = p.start(ctx, name)
		}
	}
}

// waitRead waits until every watch has listed its Secret once, or ctx
// ends (a Secret the speaker may not read never lists), and reports
// whether all did.
func (p *passwordWatches) waitRead(ctx context.Context) bool {
	synced := make([]toolscache.InformerSynced, 0, len(p.watches))
	for _, w := range p.watches {
		synced = append(synced, w.synced)
	}
	return toolscache.WaitForCacheSync(ctx.Done(), synced...)
}

// stopAll stops every watch.
func (p *passwordWatches) stopAll() { p.want(context.Background(), nil) }

// passwords are the "password" keys of the watched Secrets read so far;
// refused the watched Secrets the speaker may not read now.
func (p *passwordWatches) passwords() (pw map[config.SecretRef]string, refused map[config.SecretRef]bool) {
	out, refused := map[config.SecretRef]string{}, map[config.SecretRef]bool{}
	for name, w := range p.watches {
		if w.refused.Load() {
			refused[config.SecretRef{Namespace: kube.Namespace, Name: name}] = true
		}
		obj, ok, _ := w.store.GetByKey(kube.Namespace + "/" + name)
		if !ok {
			continue
		}
		if pw := obj.(*corev1.Secret).Data["password"]; len(pw) > 0 {
			out[config.SecretRef{Namespace: kube.Namespace, Name: name}] = string(pw)
		}
	}
	return out, refused
}

func (p *passwordWatches) start(ctx context.Context, name string) *secretWatch {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	secrets := p.api.Secrets(kube.Namespace)
	refused := &atomic.Bool{}
	lw := &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			list, err := secrets.List(ctx, o)
			if err == nil || apierrors.IsForbidden(err) {
				refused.Store(err != nil)
			}
			return list, err
		},
		// With streaming lists the reflector only watches, and the watch
		// is what is refused.
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			w, err := secrets.Watch(ctx, o)
			if err == nil || apierrors.IsForbidden(err) {
				refused.Store(err != nil)
			}
			return w, err
		},
	}
	// A client that cannot stream lists (a fake) says so through api.
	inf := toolscache.NewSharedIndexInformer(toolscache.ToListWatcherWithWatchListSemantics(lw, p.api), &corev1.Secret{}, 0, toolscache.Indexers{})
	log := p.log.WithValues("secret", kube.Namespace+"/"+name)
	// The reflector retries with backoff; what the operator needs is why.
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *toolscache.Reflector, err error) {
		if apierrors.IsForbidden(err) {
			log.Info("may not read a BGP password Secret yet: the controller grants it in Role "+kube.SpeakerSecretsRole+" once it sees the BGPPeer that names it; retrying", "error", err.Error())
			return
		}
		log.Info("cannot watch a BGP password Secret; retrying, keeping what was read", "error", err.Error())
	})
	changed := func(any) { p.changed() }
	_, _ = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: changed, UpdateFunc: func(any, any) { p.changed() }, DeleteFunc: changed,
	})
	wctx, stop := context.WithCancel(ctx)
	go inf.RunWithContext(wctx)
	return &secretWatch{store: inf.GetStore(), stop: stop, refused: refused, synced: inf.HasSynced}
}

// passwordWait bounds how long a starting speaker waits for the BGP
// password Secrets before its first plan: a Secret it may not read yet
// never arrives, and must not hold up Layer 2 or the other sessions.
const passwordWait = 2 * time.Second

// primePasswords starts the watches of the Secrets the BGPPeers take
// their passwords from before the first plan, and waits until they are
// read (at most passwordWait). Otherwise the first plan would leave each
// such session out for want of its password, and open it only a plan
// later, which at start-up, with thousands of Services to plan, is
// seconds later.
func (s *Speaker) primePasswords(ctx context.Context) {
	var peers v1beta1.BGPPeerList
	if err := s.deps.Cache.List(ctx, &peers, client.UnsafeDisableDeepCopy); err != nil {
		s.opts.Log.Error(err, "cannot list BGPPeers before the first plan; their passwords come with a later one")
		return
	}
	s.pw.want(ctx, config.PasswordSecrets(peers.Items, kube.Namespace))
	wctx, cancel := context.WithTimeout(ctx, passwordWait)
	defer cancel()
	if !s.pw.waitRead(wctx) {
		s.opts.Log.Info("BGP password Secrets not all read before the first plan; the sessions that need them open once they are", "waited", passwordWait)
	}
}
