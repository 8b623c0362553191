package liveness

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
)

var (
	// ErrMetaTooLarge is Set's error for meta over memberlist's limit of
	// memberlist.MetaMaxSize (512) bytes.
	ErrMetaTooLarge = fmt.Errorf("node meta is larger than %d bytes", memberlist.MetaMaxSize)
	// ErrNotRunning is Leave's error before Run has started memberlist or
	// after it has stopped it.
	ErrNotRunning = errors.New("liveness is not running")
	// ErrAlreadyRun is Run's error when called a second time.
	ErrAlreadyRun = errors.New("liveness Run was already called")
)

// Member is a speaker that memberlist considers alive (or suspect).
type Member struct {
	Name string
	Addr netip.AddrPort
	Meta []byte
}

// Desired is what the shell wants: peers to be joined to, and this node's
// metadata.
type Desired struct {
	// Peers are the addresses of the other speakers. Our own address may be
	// among them: it is ignored.
	Peers []netip.AddrPort
	// Meta is gossiped to the others, at most memberlist.MetaMaxSize bytes.
	Meta []byte
}

// Liveness keeps this speaker in the memberlist cluster of speakers and
// reports who is alive.
type Liveness struct {
	opts   Options
	log    logr.Logger
	events *events
	meta   *metaDelegate
	// wrap is the tests' transport seam; nil in production.
	wrap wrapTransport
	// maxJoins is the const of that name; tests lower it so that a
	// partition of a few speakers needs more than one round to heal.
	maxJoins int

	// poke asks Run to act on a new Desired at once.
	poke chan struct{}

	mu      sync.Mutex
	desired Desired // normalized: peers without self, sorted

	started atomic.Bool
	ml      atomic.Pointer[memberlist.Memberlist]
	left    atomic.Bool
	// lifecycle keeps Leave and Run's shutdown apart: memberlist panics on
	// a Leave after Shutdown.
	lifecycle sync.Mutex

	// keyring is memberlist's, made in New so that SetKeys works before
	// Run too; keysMu keeps two SetKeys from interleaving their steps.
	keyring *memberlist.Keyring
	keysMu  sync.Mutex
}

// New validates o and returns a Liveness that does nothing until Run. It
// starts no goroutine and opens no socket.
func New(o Options) (*Liveness, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	kr, err := newKeyring(o.keys())
	if err != nil {
		return nil, err
	}
	o.Metrics.Keys.Set(float64(len(kr.GetKeys())))
	log := o.Log.WithValues("node", o.Name)
	ev := newEvents(log, o.Metrics, o.Name, o.Clock.Now)
	return &Liveness{
		opts:    o,
		log:     log,
		events:  ev,
		meta:    &metaDelegate{onLeaving: ev.left},
		poke:    make(chan struct{}, 1),
		keyring: kr,

		maxJoins: maxJoins,
	}, nil
}

// Set replaces what the shell wants. It checks d, stores it and returns at
// once; Run joins the missing peers and gossips new meta right away. On
// error nothing changes.
func (l *Liveness) Set(d Desired) error {
	if len(d.Meta) > memberlist.MetaMaxSize {
		return fmt.Errorf("set meta of %d bytes: %w", len(d.Meta), ErrMetaTooLarge)
	}
	peers, err := normalizePeers(d.Peers, l.opts.self())
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.desired = Desired{Peers: peers, Meta: bytes.Clone(d.Meta)}
	l.mu.Unlock()
	select {
	case l.poke <- struct{}{}:
	default:
	}
	return nil
}

func (l *Liveness) getDesired() Desired {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.desired
}

// Changes is signalled (buffer 1, coalesced) whenever membership or a
// member's meta changes: join, leave, death, refute, meta update; and when
// Run stops. Read Members after the signal.
func (l *Liveness) Changes() <-chan struct{} {
	return l.events.changes
}

// Members returns the members memberlist considers alive or suspect, this
// node included once Run has started, sorted by name. (Suspect still counts
// as alive: a suspect is declared dead after the suspicion timeout.) It is
// empty before Run has started memberlist and after Run has stopped it, and
// leaves this node out once it has left.
func (l *Liveness) Members() []Member {
	return l.events.snapshot()
}

// HealthScore is memberlist's local health score (Lifeguard's
// "awareness"): 0 when this speaker is healthy. It rises when this speaker's
// probes fail and the speakers it asks to probe indirectly do not answer
// either, which means the fault is likely on this side: a speaker cut off
// from the others sees it rise within a probe or two, long before it
// declares them dead. Changes is signalled when it changes. It is 0 when
// memberlist is not running.
func (l *Liveness) HealthScore() int {
	if ml := l.ml.Load(); ml != nil {
		return ml.GetHealthScore()
	}
	return 0
}

// Leave tells the others we are going, and waits up to timeout for the
// message to go out, so the others re-elect at once instead of after a
// timeout. A timeout of zero or less waits as long as it takes, and holds
// up Run's return meanwhile. After Leave, Run no longer joins peers or
// gossips new meta; it still runs until its context ends.
func (l *Liveness) Leave(timeout time.Duration) error {
	l.lifecycle.Lock()
	defer l.lifecycle.Unlock()
	ml := l.ml.Load()
	if ml == nil {
		return ErrNotRunning
	}
	l.left.Store(true)
	// Tell every member directly first: memberlist's own leave waits for
	// the next gossip round to go out.
	for _, m := range l.events.snapshot() {
		if m.Name == l.opts.Name {
			continue
		}
		to := &memberlist.Node{Name: m.Name, Addr: m.Addr.Addr().AsSlice(), Port: m.Addr.Port()}
		if err := ml.SendBestEffort(to, leavingMsg(l.opts.Name)); err != nil {
			l.log.V(1).Info("could not tell a member we are leaving; it will hear it from memberlist", "member", m.Name, "error", err.Error())
		}
	}
	if err := ml.Leave(timeout); err != nil {
		return fmt.Errorf("leave memberlist: %w", err)
	}
	l.log.Info("left memberlist")
	return nil
}
