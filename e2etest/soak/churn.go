package soak

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/e2etest/lab"
)

// Churn creates and deletes Services at a steady rate: every tick one new
// Service (and its EndpointSlices), and, once Live exist, the oldest is
// deleted, so PerMinute Services are created and as many deleted each
// minute while the population stays at Live.
type Churn struct {
	Lab       *lab.Lab
	Namespace string
	// Pools are used in turn, so that both Layer 2 and BGP announce.
	Pools     []string
	PerMinute int
	Live      int
}

// ChurnStats count what the churn did.
type ChurnStats struct {
	Created, Deleted int
	live             []*corev1.Service
}

// Run churns until ctx ends, and returns the first error of the apiserver:
// with one healthy apiserver, a failed create is a finding, not noise.
func (c Churn) Run(ctx context.Context) (*ChurnStats, error) {
	st := &ChurnStats{}
	tick := time.NewTicker(time.Minute / time.Duration(max(c.PerMinute, 1)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return st, nil
		case <-tick.C:
		}
		if err := c.step(ctx, st); err != nil {
			if ctx.Err() != nil {
				return st, nil
			}
			return st, err
		}
	}
}

func (c Churn) step(ctx context.Context, st *ChurnStats) error {
	name := fmt.Sprintf("churn-%06d", st.Created)
	pool := c.Pools[st.Created%len(c.Pools)]
	svc, err := c.Lab.CreateService(ctx, c.Namespace, name, c.Lab.Nodes, lab.WithPool(pool), lab.IPv6Only())
	if err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	st.Created++
	st.live = append(st.live, svc)
	if len(st.live) <= c.Live {
		return nil
	}
	if err := c.Lab.DeleteService(ctx, st.live[0]); err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	st.live = st.live[1:]
	st.Deleted++
	return nil
}

// WaitServed waits until every Service the churn left has its IP: the
// controller kept up with the churn to the end.
func (st *ChurnStats) WaitServed(ctx context.Context, l *lab.Lab, timeout time.Duration) error {
	for _, svc := range st.live {
		if _, err := l.WaitForIPs(ctx, svc.Namespace, svc.Name, 1, timeout); err != nil {
			return fmt.Errorf("after the churn: %w", err)
		}
	}
	return nil
}
