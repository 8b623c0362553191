package e2etest

import (
	"context"
	"testing"

	"github.com/heraldlb/herald/e2etest/lab"
)

// upWithSamples brings up a lab with the controller and the speakers
// running and config/samples applied. It is torn down at cleanup, after
// the speakers' last log lines are shown if the test failed.
func upWithSamples(ctx context.Context, t *testing.T) *lab.Lab {
	t.Helper()
	return upWith(ctx, t, lab.Options{}, nil)
}

// upWith is upWithSamples with o (its Log is the test's), and before runs
// on the lab before the samples are applied.
func upWith(ctx context.Context, t *testing.T, o lab.Options, before func(*lab.Lab) error) *lab.Lab {
	t.Helper()
	o.Log = t.Output()
	l, err := lab.Up(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range l.Speakers.Procs {
				t.Logf("%s log:\n%s", p.Name, p.LogTail(40))
			}
		}
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	if !l.Controller.Running || !l.Speakers.Running {
		t.Fatalf("controller: %s; speakers: %s", l.Controller.Why, l.Speakers.Why)
	}
	if before != nil {
		if err := before(l); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.ApplySamples(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}
