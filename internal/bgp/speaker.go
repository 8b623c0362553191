package bgp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Options configure a Speaker.
type Options struct {
	Log logr.Logger
	// Metrics receives the speaker's metrics; nil: unregistered ones.
	Metrics *Metrics
	// Clock stamps PeerStatus.Since; nil: the real clock.
	Clock clock.PassiveClock
	// ListenPort is the port that passive sessions listen on, each on its
	// own SourceAddress only. Zero or negative (the default): nothing ever
	// listens, and a passive session is invalid. Sessions that dial out
	// never listen, whatever ListenPort says, so the speaker can live next
	// to a CNI that already listens on port 179.
	ListenPort int
}

// Speaker announces paths over BGP sessions, each session with its own
// embedded GoBGP server. Set tells it what to announce, Run applies it,
// Status tells how the sessions are doing.
type Speaker struct {
	opts    Options
	reqs    chan setRequest
	done    chan struct{}
	running atomic.Bool
	// view is what Status reads, replaced by Run after every change.
	view atomic.Pointer[view]
}

// view is an immutable picture of the open sessions.
type view struct {
	// monitors of the open sessions, sorted by name.
	monitors []*monitor
	// servers carrying the open sessions, by name, and the idle ones.
	servers map[string]*gobgpServer
	idle    []*gobgpServer
}

type setRequest struct {
	ctx   context.Context
	d     Desired
	reply chan error
}

// New returns a Speaker. It starts nothing: Run does.
func New(o Options) *Speaker {
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return &Speaker{opts: o, reqs: make(chan setRequest), done: make(chan struct{})}
}

// Run applies what Set asks for until ctx ends. Then it closes every
// session with a NOTIFICATION Cease, so that routers drop this node's
// routes at once instead of waiting for a hold timer, and returns.
func (s *Speaker) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer close(s.done)
	st := &state{
		sessions: map[string]*openSession{},
		log:      s.opts.Log,
		clock:    s.opts.Clock,
		metrics:  s.opts.Metrics,
		listen: listening{
			port:  s.opts.ListenPort,
			mptcp: (&net.ListenConfig{}).MultipathTCP(),
		},
	}
	for {
		select {
		case <-ctx.Done():
			// The loop's ctx has ended, but closing still talks to GoBGP.
			err := st.shutdown(context.WithoutCancel(ctx))
			s.publish(st)
			if err != nil {
				return fmt.Errorf("close BGP sessions: %w", err)
			}
			return nil
		case r := <-s.reqs:
			err := st.apply(r.ctx, r.d)
			s.publish(st)
			r.reply <- err
		}
	}
}

// Set makes the speaker announce exactly d: it opens, closes and
// re-creates sessions, and advertises and withdraws paths, to match. It
// returns once the change is applied (Run must be running), with every
// problem in the error; what could be applied is, and what could not is
// retried by the next Set. An invalid session keeps what it had.
func (s *Speaker) Set(ctx context.Context, d Desired) error {
	r := setRequest{ctx: ctx, d: d, reply: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("wait for the BGP speaker: %w", ctx.Err())
	}
	return <-r.reply
}

// Status returns the state of every open session, sorted by name.
func (s *Speaker) Status() []PeerStatus {
	v := s.view.Load()
	if v == nil {
		return nil
	}
	out := make([]PeerStatus, 0, len(v.monitors))
	for _, m := range v.monitors {
		out = append(out, m.status())
	}
	return out
}

func (s *Speaker) publish(st *state) {
	v := &view{servers: map[string]*gobgpServer{}, idle: slices.Clone(st.idle)}
	for _, name := range sortedNames(st.sessions) {
		v.monitors = append(v.monitors, st.sessions[name].mon)
		v.servers[name] = st.sessions[name].gs
	}
	s.view.Store(v)
}

// state is owned by Run's goroutine.
type state struct {
	sessions map[string]*openSession
	idle     []*gobgpServer
	log      logr.Logger
	clock    clock.PassiveClock
	metrics  *Metrics
	listen   listening
}

// current is the applied state, as diff reads it.
func (st *state) current() map[string]applied {
	cur := make(map[string]applied, len(st.sessions))
	for name, o := range st.sessions {
		cur[name] = o.applied
	}
	return cur
}

// apply makes the applied state d, as far as it can. After a failure,
// st still says exactly what GoBGP has, so the next apply retries. When
// ctx ends, apply stops between two sessions.
func (st *state) apply(ctx context.Context, d Desired) error {
	if d.PathsPending {
		d.Paths = nil // ignored, so not validated either
	}
	want, err := normalize(d, st.listen)
	if d.PathsPending {
		want = holdPending(want, st.current())
	}
	errs := []error{err, st.applyChange(ctx, diff(st.current(), want))}
	for _, o := range st.sessions {
		o.mon.setPrefixes(prefixCounts(o.paths))
	}
	return errors.Join(errs...)
}

func (st *state) applyChange(ctx context.Context, c change) error {
	var errs []error
	stopped := func() bool {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("apply BGP change: %w", err))
			return true
		}
		return false
	}
	for _, name := range c.close {
		if stopped() {
			return errors.Join(errs...)
		}
		errs = append(errs, st.close(ctx, st.sessions[name]))
	}
	opened := map[string]bool{}
	for _, s := range c.open {
		if stopped() {
			return errors.Join(errs...)
		}
		o, err := st.open(ctx, s, c.announce[s.Name])
		errs = append(errs, err)
		if o != nil {
			st.sessions[s.Name] = o
			opened[s.Name] = true
		}
	}
	for _, name := range sortedNames(st.sessions) {
		if opened[name] {
			continue
		}
		if stopped() {
			return errors.Join(errs...)
		}
		o := st.sessions[name]
		errs = append(errs, st.withdraw(ctx, o, c.withdraw[name]), st.announce(ctx, o, c.announce[name]))
	}
	return errors.Join(errs...)
}
