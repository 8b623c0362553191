package soak

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Run writes the HeraldNodes every interval, when they changed, until ctx
// ends: as often as real speakers, which batch their status writes, and
// no more, so that the controller's load resembles a real cluster's.
func (s Speakers) Run(ctx context.Context, c client.Client, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := s.write(ctx, c); err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (s Speakers) write(ctx context.Context, c client.Client) error {
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs); err != nil {
		return fmt.Errorf("fake speakers: list services: %w", err)
	}
	// HeraldNode has no status subresource: a speaker writes the object.
	for _, want := range s.Statuses(svcs.Items) {
		var hn v1beta1.HeraldNode
		err := c.Get(ctx, client.ObjectKey{Name: want.Name}, &hn)
		switch {
		case apierrors.IsNotFound(err):
			err = c.Create(ctx, &want)
		case err == nil && !equality.Semantic.DeepEqual(hn.Status, want.Status):
			hn.Status = want.Status
			err = c.Update(ctx, &hn)
		}
		// A conflict is retried at the next tick, as a speaker would.
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("fake speakers: heraldnode %s: %w", want.Name, err)
		}
	}
	return nil
}
