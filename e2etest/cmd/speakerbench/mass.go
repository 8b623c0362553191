package main

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/lab"
)

// createMany creates n Services in namespace ns from pool, with endpoints
// on every node, from 16 clients at once, and returns when all exist.
func createMany(ctx context.Context, l *lab.Lab, ns, pool string, n int, opts ...lab.ServiceOption) error {
	return createRange(ctx, l, ns, pool, 0, n, opts...)
}

// createRange creates the Services numbered from..to-1, as createMany does.
func createRange(ctx context.Context, l *lab.Lab, ns, pool string, from, to int, opts ...lab.ServiceOption) error {
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name := fmt.Sprintf("svc-%05d", i)
				if _, err := l.CreateService(ctx, ns, name, l.Nodes, append([]lab.ServiceOption{lab.WithPool(pool)}, opts...)...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := from; i < to; i++ {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

// waitAllIPs waits until every Service in ns has an IP, and returns when
// the last one got it (as seen by polling).
func waitAllIPs(ctx context.Context, l *lab.Lab, ns string, n int, timeout time.Duration) error {
	return lab.PollUntil(ctx, 500*time.Millisecond, timeout, func() (bool, error) {
		var list corev1.ServiceList
		if err := l.Env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		with := 0
		for i := range list.Items {
			if len(list.Items[i].Status.LoadBalancer.Ingress) > 0 {
				with++
			}
		}
		return with >= n, nil
	})
}

// load is what loadServices measured.
type load struct {
	// before is the speakers' usage before the first create.
	before []procStat
	// start is the first create; created and allocated are the times
	// from it until the last create returned and the last IP was seen.
	start              time.Time
	created, allocated time.Duration
}

// loadServices creates pool over prefix and adv, then n IPv6 Services in
// namespace ns, and waits until every one has its IP.
func loadServices(ctx context.Context, l *lab.Lab, pool string, prefix netip.Prefix, adv client.Object, ns string, n int, timeout time.Duration) (load, error) {
	p := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: pool},
		Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{v1beta1.AddressRange(prefix.String())}}}
	for _, o := range []client.Object{p, adv} {
		if err := l.Env.Client.Create(ctx, o); err != nil {
			return load{}, err
		}
	}
	var ld load
	var err error
	if ld.before, err = speakerStats(l); err != nil {
		return load{}, err
	}
	ld.start = time.Now()
	if err := createMany(ctx, l, ns, pool, n, lab.IPv6Only()); err != nil {
		return load{}, err
	}
	ld.created = time.Since(ld.start)
	if err := waitAllIPs(ctx, l, ns, n, timeout); err != nil {
		return load{}, err
	}
	ld.allocated = time.Since(ld.start)
	return ld, nil
}
