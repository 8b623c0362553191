package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/e2etest/lab"
)

// createMany creates n Services in namespace ns from pool, with endpoints
// on every node, from 16 clients at once, and returns when all exist.
func createMany(ctx context.Context, l *lab.Lab, ns, pool string, n int, opts ...lab.ServiceOption) error {
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
	for i := range n {
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
