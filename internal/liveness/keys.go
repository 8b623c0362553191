package liveness

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/hashicorp/memberlist"
)

// Keys is a gossip keyring: Primary encrypts what this speaker sends, and
// every key, Primary and Secondary, is tried on what it receives. Secondary
// keys are what make a rotation lossless: a speaker accepts the new key
// before anyone sends with it, and the old one until nobody does.
type Keys struct {
	Primary   []byte
	Secondary [][]byte
}

// validate checks every key's length: memberlist takes 16, 24 or 32 bytes.
func (k Keys) validate() error {
	if err := memberlist.ValidateKey(k.Primary); err != nil {
		return fmt.Errorf("check primary key (%d bytes): %w", len(k.Primary), ErrNoKey)
	}
	for i, s := range k.Secondary {
		if err := memberlist.ValidateKey(s); err != nil {
			return fmt.Errorf("check secondary key %d (%d bytes): %w", i, len(s), ErrNoKey)
		}
	}
	return nil
}

// clone copies k, so the caller may reuse its slices.
func (k Keys) clone() Keys {
	c := Keys{Primary: bytes.Clone(k.Primary)}
	for _, s := range k.Secondary {
		c.Secondary = append(c.Secondary, bytes.Clone(s))
	}
	return c
}

// all is Primary followed by the Secondary keys, without repeats.
func (k Keys) all() [][]byte {
	out := [][]byte{k.Primary}
	for _, s := range k.Secondary {
		if !containsKey(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func containsKey(keys [][]byte, k []byte) bool {
	return slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) })
}

// keyOp is what a keyStep does to memberlist's keyring.
type keyOp int

const (
	addKey    keyOp = iota // install a key for decryption
	useKey                 // make an installed key the one that encrypts
	removeKey              // drop a key that is not the primary
)

func (o keyOp) String() string {
	return [...]string{"add", "use", "remove"}[o]
}

// keyStep is one call on memberlist's keyring.
type keyStep struct {
	op  keyOp
	key []byte
}

// keySteps returns the calls that take a keyring holding installed (primary
// first, as memberlist's GetKeys returns them) to want. The order is what
// keeps every step safe: first add every new key, so the node reads a new
// primary before it sends with it; then switch the primary; only then remove
// the keys gone, the old primary among them, which memberlist refuses to
// remove while it is in use. Each step leaves the node reading at least what
// it read before the change and what it reads after it, until the removals.
func keySteps(installed [][]byte, want Keys) []keyStep {
	var steps []keyStep
	all := want.all()
	for _, k := range all {
		if !containsKey(installed, k) {
			steps = append(steps, keyStep{addKey, k})
		}
	}
	if len(installed) == 0 || !bytes.Equal(installed[0], want.Primary) {
		steps = append(steps, keyStep{useKey, want.Primary})
	}
	for _, k := range installed {
		if !containsKey(all, k) {
			steps = append(steps, keyStep{removeKey, k})
		}
	}
	return steps
}

// newKeyring builds memberlist's keyring from validated keys.
func newKeyring(k Keys) (*memberlist.Keyring, error) {
	kr, err := memberlist.NewKeyring(k.all(), k.Primary)
	if err != nil {
		return nil, fmt.Errorf("build memberlist keyring: %w", err)
	}
	return kr, nil
}

// SetKeys applies a new keyring to this speaker's memberlist, before or
// while Run runs: it adds the new keys, switches the primary, then removes
// the keys gone (see keySteps). An invalid keyring changes nothing, and the
// keyring is never empty, so gossip is never sent or accepted in the clear.
// Rotating a cluster's key without losing gossip takes three rounds, each
// applied on every speaker before the next starts: add the new key as
// secondary, make it the primary, remove the old one.
func (l *Liveness) SetKeys(k Keys) error {
	if err := k.validate(); err != nil {
		return err
	}
	k = k.clone()
	l.keysMu.Lock()
	defer l.keysMu.Unlock()
	// memberlist's RemoveKey shifts the slice GetKeys returned in place:
	// the steps are computed on a copy. (A message being decrypted at that
	// instant may see the shifted slice, which memberlist reads unlocked;
	// with keys of one length, as the speaker's are all 32 bytes, at worst
	// that one message fails, as it would after the removal.)
	steps := keySteps(slices.Clone(l.keyring.GetKeys()), k)
	if len(steps) == 0 {
		return nil
	}
	done := map[keyOp]int{}
	for _, s := range steps {
		if err := applyKeyStep(l.keyring, s); err != nil {
			// The keyring is its own record of what is applied: the next
			// SetKeys starts from what this one reached.
			l.opts.Metrics.Keys.Set(float64(len(l.keyring.GetKeys())))
			return err
		}
		done[s.op]++
	}
	n := len(l.keyring.GetKeys())
	l.opts.Metrics.Keys.Set(float64(n))
	l.log.Info("memberlist keyring changed", "added", done[addKey], "primaryChanged", done[useKey] > 0, "removed", done[removeKey], "keys", n)
	return nil
}

func applyKeyStep(kr *memberlist.Keyring, s keyStep) error {
	var err error
	switch s.op {
	case addKey:
		err = kr.AddKey(s.key)
	case useKey:
		err = kr.UseKey(s.key)
	case removeKey:
		err = kr.RemoveKey(s.key)
	}
	if err != nil {
		return fmt.Errorf("%s memberlist key: %w", s.op, err)
	}
	return nil
}

// InstalledKeys returns a copy of the keys memberlist holds now.
func (l *Liveness) InstalledKeys() Keys {
	keys := l.keyring.GetKeys()
	return Keys{Primary: keys[0], Secondary: keys[1:]}.clone()
}
