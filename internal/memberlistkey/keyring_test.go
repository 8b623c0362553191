package memberlistkey

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
)

func sum(s string) []byte {
	v := sha256.Sum256([]byte(s))
	return v[:]
}

const (
	keyA = "key-A-0123456789"
	keyB = "key-B-0123456789-longer"
	keyC = "key-C-0123456789"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      map[string]string
		names     []string
		primary   string
		secondary []string
		text      string
	}{
		{"only the primary, as before", map[string]string{"secretkey": keyA}, []string{"secretkey"}, keyA, nil, "secretkey (primary)"},
		{"rotation step 1: the next key beside it", map[string]string{"secretkey": keyA, "secretkey.next": keyB},
			[]string{"secretkey", "secretkey.next"}, keyA, []string{keyB}, "secretkey (primary), secretkey.next"},
		{"rotation step 2: the old key beside the new primary", map[string]string{"secretkey": keyB, "secretkey.old": keyA},
			[]string{"secretkey", "secretkey.old"}, keyB, []string{keyA}, "secretkey (primary), secretkey.old"},
		{"secondaries in name order", map[string]string{"secretkey.z": keyC, "secretkey": keyA, "secretkey.a": keyB},
			[]string{"secretkey", "secretkey.a", "secretkey.z"}, keyA, []string{keyB, keyC}, "secretkey (primary), secretkey.a, secretkey.z"},
		{"other data keys are ignored", map[string]string{"secretkey": keyA, "notes": "x", "secretkeyother": "x"},
			[]string{"secretkey"}, keyA, nil, "secretkey (primary)"},
		{"exactly the shortest key", map[string]string{"secretkey": strings.Repeat("k", MinKeyLength)},
			[]string{"secretkey"}, strings.Repeat("k", MinKeyLength), nil, "secretkey (primary)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Parse(toData(tc.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.Equal(k.Names, tc.names) {
				t.Errorf("names %v, want %v", k.Names, tc.names)
			}
			if !bytes.Equal(k.Keys.Primary, sum(tc.primary)) {
				t.Errorf("the primary is not SHA-256 of %q", tc.primary)
			}
			if len(k.Keys.Secondary) != len(tc.secondary) {
				t.Fatalf("%d secondary keys, want %d", len(k.Keys.Secondary), len(tc.secondary))
			}
			for i, s := range tc.secondary {
				if !bytes.Equal(k.Keys.Secondary[i], sum(s)) {
					t.Errorf("secondary %d is not SHA-256 of %q", i, s)
				}
			}
			if got := k.String(); got != tc.text {
				t.Errorf("String() = %q, want %q", got, tc.text)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data map[string]string
		is   []error
		says []string
	}{
		{"no primary", map[string]string{"secretkey.next": keyB}, []error{ErrNoKey}, []string{`no data key "secretkey"`}},
		{"no data at all", nil, []error{ErrNoKey}, []string{`"secretkey"`}},
		{"a short primary", map[string]string{"secretkey": "short"}, []error{ErrNoKey, ErrInvalidKey},
			[]string{`data key "secretkey" holds 5 bytes, fewer than 16`}},
		{"an empty primary", map[string]string{"secretkey": ""}, []error{ErrNoKey, ErrInvalidKey}, []string{`"secretkey" holds 0 bytes`}},
		{"a short secondary", map[string]string{"secretkey": keyA, "secretkey.next": "0123456789abcde"}, []error{ErrInvalidKey},
			[]string{`data key "secretkey.next" holds 15 bytes, fewer than 16`}},
		{"a secondary without a suffix", map[string]string{"secretkey": keyA, "secretkey.": keyB}, []error{ErrInvalidKey},
			[]string{`data key "secretkey." has no suffix`, "secretkey.next"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Parse(toData(tc.data))
			if err == nil {
				t.Fatalf("Parse = %v, want an error", k)
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), keyA) || strings.Contains(err.Error(), keyB) {
				t.Errorf("error %q shows a key", err)
			}
		})
	}
	// A secondary error is not a missing primary: a running speaker keeps
	// its keyring either way, but the message must not send the user to
	// create the Secret.
	if _, err := Parse(toData(map[string]string{"secretkey": keyA, "secretkey.next": "short"})); errors.Is(err, ErrNoKey) {
		t.Errorf("a short secondary is reported as a missing primary: %v", err)
	}
}

func toData(m map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
