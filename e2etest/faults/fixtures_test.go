package faults

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
)

type svcOpt func(*corev1.Service)

// lbService builds a LoadBalancer Service of the default class, IPv6 single
// stack unless an option says otherwise: the control plane has few IPv4
// cluster IPs.
func lbService(ns, name string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:                          corev1.ServiceTypeLoadBalancer,
			AllocateLoadBalancerNodePorts: ptr.To(false),
			IPFamilyPolicy:                ptr.To(corev1.IPFamilyPolicySingleStack),
			IPFamilies:                    []corev1.IPFamily{corev1.IPv6Protocol},
			Ports:                         []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
			Selector:                      map[string]string{"app": name},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func ipv4(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol} }

func dualStack(s *corev1.Service) {
	s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
	s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
}

func withAnnotation(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func withPort(port int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: fmt.Sprintf("p%d", port), Port: port, Protocol: corev1.ProtocolTCP}}
	}
}

// createServices creates svcs from 16 clients, retrying each create until
// it succeeds or ctx ends: the apiserver may be down for a while.
func createServices(ctx context.Context, svcs []*corev1.Service) error {
	var wg sync.WaitGroup
	next := make(chan *corev1.Service)
	errs := make(chan error, len(svcs))
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				errs <- createRetrying(ctx, s)
			}
		}()
	}
	for _, s := range svcs {
		next <- s
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func createRetrying(ctx context.Context, s *corev1.Service) error {
	for {
		_, err := cs.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create service %s/%s: %w (last error %v)", s.Namespace, s.Name, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type poolOpt func(*v1beta1.IPAddressPool)

func manualPool(p *v1beta1.IPAddressPool) { p.Spec.AutoAssign = ptr.To(false) }

// createPool creates a pool pinned to ns. It is deleted at cleanup, after
// the namespace's Services, while the controllers still run to remove its
// finalizer: register it after starting them.
func createPool(t *testing.T, ns, name string, addrs []string, opts ...poolOpt) {
	t.Helper()
	p := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{ServiceAllocation: &v1beta1.ServiceAllocation{Namespaces: []string{ns}}},
	}
	for _, a := range addrs {
		p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(a))
	}
	for _, o := range opts {
		o(p)
	}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		deleteServices(t, ns)
		if err := env.Client.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete pool %s: %v", name, err)
		}
		// After an outage the controller's informers may still lag by up
		// to a minute (client-go's backoff): the finalizer goes once they
		// have seen the Services go.
		eventually(t, 2*time.Minute, func() error {
			err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &v1beta1.IPAddressPool{})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("pool %s still there (%v)", name, err)
			}
			return nil
		})
	})
}

// waitAllocated waits until ns holds at least want Services, each showing
// as many IPs as it has families. It reads the apiserver, not the observer:
// after an outage the observer's informer, like any, may be behind.
func waitAllocated(t *testing.T, ns string, want int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() error {
		list, err := cs.CoreV1().Services(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) < want {
			return fmt.Errorf("%d services, want %d", len(list.Items), want)
		}
		var waiting []string
		for i := range list.Items {
			s := &list.Items[i]
			if len(ipsOf(s)) != len(s.Spec.IPFamilies) {
				waiting = append(waiting, svcKey(s))
			}
		}
		if len(waiting) > 0 {
			sort.Strings(waiting)
			return fmt.Errorf("%d services without their IPs, such as %v", len(waiting), waiting[:min(5, len(waiting))])
		}
		return nil
	})
}

// leaderOf waits until exactly one replica leads and has caught up, and
// returns it.
func leaderOf(t *testing.T, timeout time.Duration, replicas ...*controller) *controller {
	t.Helper()
	var leader *controller
	eventually(t, timeout, func() error {
		leader = nil
		n := 0
		for _, c := range replicas {
			leading, caughtUp := c.leads(context.Background())
			if leading {
				n++
				if caughtUp {
					leader = c
				}
			}
		}
		switch {
		case n > 1:
			return fmt.Errorf("%d replicas say they lead", n)
		case leader == nil:
			return fmt.Errorf("no replica leads and has caught up")
		}
		return nil
	})
	return leader
}

var metav1ListAll = metav1.ListOptions{}
