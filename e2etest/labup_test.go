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
	l, err := lab.Up(ctx, lab.Options{Log: t.Output()})
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
	if _, err := l.ApplySamples(ctx); err != nil {
		t.Fatal(err)
	}
	return l
}
