package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/heraldlb/herald/internal/config"
)

// observer watches the Services of a namespace and records, from every
// event, what the controller wrote: each Service's history of IP sets, and
// any moment two Services showed one IP without the sharing rules allowing
// it. It checks what a user could see, at every step, not only the end.
type observer struct {
	mu sync.Mutex
	// current is the last seen state of every Service, by key, and byIP
	// indexes it by the IPs it shows.
	current map[string]*corev1.Service
	byIP    map[string]map[string]bool
	// history is, by UID, the distinct non-empty IP sets a Service has had,
	// in order, with the time each was first seen.
	history map[types.UID][]seenIPs
	keys    map[types.UID]string
	// violations are the duplicates seen.
	violations []string
	// firstIP is, by key, when a Service was first seen with an IP.
	firstIP map[string]time.Time
}

type seenIPs struct {
	ips string
	at  time.Time
}

// observe starts watching ns until the test ends.
func observe(t *testing.T, ns string) *observer {
	t.Helper()
	o := &observer{
		current: map[string]*corev1.Service{},
		byIP:    map[string]map[string]bool{},
		history: map[types.UID][]seenIPs{},
		keys:    map[types.UID]string{},
		firstIP: map[string]time.Time{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Services().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.seen(obj.(*corev1.Service)) },
		UpdateFunc: func(_, obj any) { o.seen(obj.(*corev1.Service)) },
		DeleteFunc: func(obj any) {
			if svc, ok := obj.(*corev1.Service); ok {
				o.gone(svc)
			} else if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				if svc, ok := d.Obj.(*corev1.Service); ok {
					o.gone(svc)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("service informer did not sync")
	}
	return o
}

func ipsOf(svc *corev1.Service) []string {
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	slices.Sort(out)
	return out
}

func svcKey(svc *corev1.Service) string { return svc.Namespace + "/" + svc.Name }

func (o *observer) seen(svc *corev1.Service) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := svcKey(svc)
	o.forget(k)
	o.current[k] = svc
	o.keys[svc.UID] = k
	ips := ipsOf(svc)
	for _, ip := range ips {
		for other := range o.byIP[ip] {
			if !mayShare(svc, o.current[other]) {
				o.violations = append(o.violations, fmt.Sprintf("%s: %s and %s both show %s", time.Now().Format("15:04:05.000"), k, other, ip))
			}
		}
		if o.byIP[ip] == nil {
			o.byIP[ip] = map[string]bool{}
		}
		o.byIP[ip][k] = true
	}
	if len(ips) == 0 {
		return
	}
	if _, ok := o.firstIP[k]; !ok {
		o.firstIP[k] = time.Now()
	}
	joined := strings.Join(ips, ",")
	h := o.history[svc.UID]
	if len(h) == 0 || h[len(h)-1].ips != joined {
		o.history[svc.UID] = append(h, seenIPs{ips: joined, at: time.Now()})
	}
}

// forget removes key from the IP index.
func (o *observer) forget(key string) {
	if old := o.current[key]; old != nil {
		for _, ip := range ipsOf(old) {
			delete(o.byIP[ip], key)
			if len(o.byIP[ip]) == 0 {
				delete(o.byIP, ip)
			}
		}
	}
}

func (o *observer) gone(svc *corev1.Service) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forget(svcKey(svc))
	delete(o.current, svcKey(svc))
}

// mayShare applies the sharing rules: the same key, no port in common, and
// the same backend when either uses externalTrafficPolicy Local.
func mayShare(a, b *corev1.Service) bool {
	ka, kb := a.Annotations[config.AnnotationAllowSharedIP], b.Annotations[config.AnnotationAllowSharedIP]
	if ka == "" || ka != kb {
		return false
	}
	for _, p := range a.Spec.Ports {
		for _, q := range b.Spec.Ports {
			if p.Port == q.Port && p.Protocol == q.Protocol {
				return false
			}
		}
	}
	local := a.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal || b.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	return !local || config.Backend(a.Spec.Selector) == config.Backend(b.Spec.Selector)
}

// duplicates returns the duplicates seen so far.
func (o *observer) duplicates() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.violations)
}

// moved returns the Services, by key, that showed more than one IP set,
// leaving out those whose request the test changed.
func (o *observer) moved(changed func(key string) bool) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for uid, h := range o.history {
		k := o.keys[uid]
		if len(h) > 1 && !changed(k) {
			var steps []string
			for _, s := range h {
				steps = append(steps, s.at.Format("15:04:05.000")+" "+s.ips)
			}
			out = append(out, k+": "+strings.Join(steps, " → "))
		}
	}
	slices.Sort(out)
	return out
}

// services returns the last seen state of every Service.
func (o *observer) services() []*corev1.Service {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*corev1.Service, 0, len(o.current))
	for _, s := range o.current {
		out = append(out, s)
	}
	return out
}

// ipOf returns the IPs a Service shows now.
func (o *observer) ipOf(key string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s := o.current[key]; s != nil {
		return ipsOf(s)
	}
	return nil
}

// firstSeen returns when a Service was first seen with an IP.
func (o *observer) firstSeen(key string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.firstIP[key]
	return at, ok
}
