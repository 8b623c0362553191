package memberlistkey

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldlb/herald/internal/liveness"
)

// DataKey is the Secret's data key that holds the primary gossip key;
// DataKey + "." + a suffix holds a secondary one.
const DataKey = "secretkey"

// MinKeyLength is the least number of bytes of a key in the Secret: any
// string that long will do, since memberlist's key is derived from it.
const MinKeyLength = 16

var (
	// ErrNoKey means the Secret has no usable primary key: a speaker that
	// starts without one refuses to, since gossip in the clear lets anyone
	// on the network forge membership.
	ErrNoKey = errors.New("no memberlist key")
	// ErrInvalidKey means a data key of the Secret is not a usable key.
	ErrInvalidKey = errors.New("invalid memberlist key")
)

// Keyring is the gossip keyring a Secret describes.
type Keyring struct {
	// Keys are memberlist's keys, each derived from the Secret's value with
	// SHA-256, so every one is 32 bytes (AES-256).
	Keys liveness.Keys
	// Names are the data keys they come from: DataKey first, then the
	// secondary ones in name order, as in Keys.
	Names []string
}

// String names the data keys, never their values.
func (k Keyring) String() string {
	if len(k.Names) == 0 {
		return "no keys"
	}
	return k.Names[0] + " (primary)" + strings.Join(append([]string{""}, k.Names[1:]...), ", ")
}

// Parse turns a memberlist Secret's data into its keyring. Data keys other
// than DataKey and DataKey.<suffix> are ignored. The error names the data
// key at fault, and wraps ErrNoKey when the primary is missing, or
// ErrInvalidKey.
func Parse(data map[string][]byte) (Keyring, error) {
	primary, ok := data[DataKey]
	if !ok {
		return Keyring{}, fmt.Errorf("%w: the Secret has no data key %q", ErrNoKey, DataKey)
	}
	if err := checkLength(DataKey, primary); err != nil {
		return Keyring{}, fmt.Errorf("%w: %w", ErrNoKey, err)
	}
	k := Keyring{Keys: liveness.Keys{Primary: derive(primary)}, Names: []string{DataKey}}
	var others []string
	for name := range data {
		if suffix, ok := strings.CutPrefix(name, DataKey+"."); ok {
			if suffix == "" {
				return Keyring{}, fmt.Errorf("%w: data key %q has no suffix; name it %s.<suffix>, such as %s.next", ErrInvalidKey, name, DataKey, DataKey)
			}
			others = append(others, name)
		}
	}
	slices.Sort(others)
	for _, name := range others {
		if err := checkLength(name, data[name]); err != nil {
			return Keyring{}, err
		}
		k.Keys.Secondary = append(k.Keys.Secondary, derive(data[name]))
		k.Names = append(k.Names, name)
	}
	return k, nil
}

func checkLength(name string, v []byte) error {
	if len(v) < MinKeyLength {
		return fmt.Errorf("%w: data key %q holds %d bytes, fewer than %d", ErrInvalidKey, name, len(v), MinKeyLength)
	}
	return nil
}

// derive makes memberlist's 32-byte AES key from a Secret's value, as the
// speaker always has, so existing Secrets keep their key.
func derive(v []byte) []byte {
	sum := sha256.Sum256(v)
	return sum[:]
}
