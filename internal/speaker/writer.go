package speaker

import (
	"context"
	"time"
)

// write is one apiserver write the loop asks for. kind names it, so that the
// loop has at most one of each kind in flight and knows which result is
// which.
type write struct {
	kind string
	do   func(ctx context.Context) error
}

// written is a write's outcome, sent back to the loop.
type written struct {
	kind string
	// at is when the write was sent: a Lease written at that time is valid
	// from then on.
	at  time.Time
	err error
}

// writer runs the loop's writes one at a time, each bounded by timeout, so
// that the loop itself never waits on the apiserver.
func (s *Speaker) writer(ctx context.Context, in <-chan write, out chan<- written) {
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-in:
			at := s.opts.Clock.Now()
			wctx, cancel := context.WithTimeout(ctx, s.opts.APITimeout)
			err := w.do(wctx)
			cancel()
			select {
			case out <- written{kind: w.kind, at: at, err: err}:
			case <-ctx.Done():
				return
			}
		}
	}
}
