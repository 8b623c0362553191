package liveness

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Keys of the three lengths memberlist takes, named by a letter.
var (
	keyA = bytes.Repeat([]byte{'A'}, 16)
	keyB = bytes.Repeat([]byte{'B'}, 32)
	keyC = bytes.Repeat([]byte{'C'}, 24)
)

// keyName names the test keys in failure messages.
func keyName(k []byte) string {
	if len(k) == 0 {
		return "-"
	}
	return string(k[:1])
}

func stepsString(steps []keyStep) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.op.String()+" "+keyName(s.key))
	}
	return strings.Join(out, ", ")
}

func TestKeySteps(t *testing.T) {
	for _, tc := range []struct {
		name      string
		installed [][]byte
		want      Keys
		steps     string
	}{
		{"nothing changes", [][]byte{keyA}, Keys{Primary: keyA}, ""},
		{"nothing changes with a secondary", [][]byte{keyA, keyB}, Keys{Primary: keyA, Secondary: [][]byte{keyB}}, ""},
		{"rotation step 1: add the new key as secondary", [][]byte{keyA}, Keys{Primary: keyA, Secondary: [][]byte{keyB}}, "add B"},
		{"rotation step 2: switch the primary", [][]byte{keyA, keyB}, Keys{Primary: keyB, Secondary: [][]byte{keyA}}, "use B"},
		{"rotation step 3: remove the old key", [][]byte{keyB, keyA}, Keys{Primary: keyB}, "remove A"},
		{"a new primary at once is added before it is used, and the old one removed after",
			[][]byte{keyA}, Keys{Primary: keyB}, "add B, use B, remove A"},
		{"a secondary swapped for another", [][]byte{keyA, keyB}, Keys{Primary: keyA, Secondary: [][]byte{keyC}}, "add C, remove B"},
		{"everything new", [][]byte{keyA, keyB}, Keys{Primary: keyC, Secondary: [][]byte{keyB}}, "add C, use C, remove A"},
		{"the primary repeated as a secondary is one key", [][]byte{keyA}, Keys{Primary: keyA, Secondary: [][]byte{keyA}}, ""},
		{"an empty keyring gets the primary", nil, Keys{Primary: keyA}, "add A, use A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps := keySteps(tc.installed, tc.want)
			if got := stepsString(steps); got != tc.steps {
				t.Errorf("steps %q, want %q", got, tc.steps)
			}
		})
	}
}

// TestKeyStepsAreSafe checks, for every pair of keyrings over three keys,
// what makes the steps safe on a real memberlist keyring: they reach the
// wanted keyring, no step fails (memberlist refuses to remove the primary),
// the keyring is never empty, and the new primary is installed before it is
// used.
func TestKeyStepsAreSafe(t *testing.T) {
	rings := allKeyrings([][]byte{keyA, keyB, keyC})
	for _, from := range rings {
		for _, to := range rings {
			name := fmt.Sprintf("%s to %s", keysString(from), keysString(to))
			kr, err := newKeyring(from)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range keySteps(slices.Clone(kr.GetKeys()), to) {
				if s.op == useKey && !containsKey(kr.GetKeys(), s.key) {
					t.Errorf("%s: uses %s before adding it", name, keyName(s.key))
				}
				if err := applyKeyStep(kr, s); err != nil {
					t.Errorf("%s: step %s %s: %v", name, s.op, keyName(s.key), err)
				}
				if len(kr.GetKeys()) == 0 {
					t.Errorf("%s: the keyring is empty after %s %s", name, s.op, keyName(s.key))
				}
			}
			got := Keys{Primary: kr.GetPrimaryKey(), Secondary: kr.GetKeys()[1:]}
			if keysString(got) != keysString(to) {
				t.Errorf("%s: reached %s", name, keysString(got))
			}
		}
	}
}

// allKeyrings returns every keyring over keys: each key as the primary,
// with each subset of the others as secondaries, in their order.
func allKeyrings(keys [][]byte) []Keys {
	var out []Keys
	for i, p := range keys {
		others := slices.Delete(slices.Clone(keys), i, i+1)
		for mask := range 1 << len(others) {
			k := Keys{Primary: p}
			for j, o := range others {
				if mask&(1<<j) != 0 {
					k.Secondary = append(k.Secondary, o)
				}
			}
			out = append(out, k)
		}
	}
	return out
}

// keysString is a keyring as "primary+secondaries", secondaries sorted:
// their order does not matter to memberlist, which tries each.
func keysString(k Keys) string {
	var sec []string
	for _, s := range k.Secondary {
		sec = append(sec, keyName(s))
	}
	slices.Sort(sec)
	return keyName(k.Primary) + "+" + strings.Join(sec, "")
}

func TestSetKeysRejectsBadKeysAndKeepsTheKeyring(t *testing.T) {
	o := validOptions()
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Keys{
		{},
		{Primary: []byte("short")},
		{Primary: keyB, Secondary: [][]byte{[]byte("short")}},
		{Primary: keyB, Secondary: [][]byte{nil}},
	} {
		if err := l.SetKeys(k); !errors.Is(err, ErrNoKey) {
			t.Errorf("SetKeys(%d-byte primary, %d secondaries): %v, want ErrNoKey", len(k.Primary), len(k.Secondary), err)
		}
		if got := l.InstalledKeys(); !bytes.Equal(got.Primary, testKey) || len(got.Secondary) != 0 {
			t.Errorf("a rejected keyring changed the installed one to %d-byte primary and %d secondaries", len(got.Primary), len(got.Secondary))
		}
	}
	if got := counterValue(t, l.opts.Metrics.Keys); got != 1 {
		t.Errorf("keys gauge %v, want 1", got)
	}
}

func TestSetKeysBeforeRun(t *testing.T) {
	o := validOptions()
	o.SecondaryKeys = [][]byte{keyA}
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysString(l.InstalledKeys()); got != "h+A" {
		t.Fatalf("New installed %s, want the test key (h) and A", got)
	}
	secondary := bytes.Clone(keyC)
	if err := l.SetKeys(Keys{Primary: keyB, Secondary: [][]byte{secondary}}); err != nil {
		t.Fatal(err)
	}
	secondary[0] = 'X'
	if got := keysString(l.InstalledKeys()); got != "B+C" {
		t.Errorf("installed %s after SetKeys, want B+C (and not the caller's slice)", got)
	}
	if got := counterValue(t, l.opts.Metrics.Keys); got != 2 {
		t.Errorf("keys gauge %v, want 2", got)
	}
}
