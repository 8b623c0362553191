package bgp

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// describeChange renders a change in a stable, readable form.
func describeChange(c change) string {
	var lines []string
	for _, n := range c.close {
		lines = append(lines, "close "+n)
	}
	for _, s := range c.open {
		lines = append(lines, "open "+s.Name)
	}
	for _, n := range slices.Sorted(maps.Keys(c.withdraw)) {
		lines = append(lines, fmt.Sprintf("withdraw %s %v", n, c.withdraw[n]))
	}
	for _, n := range slices.Sorted(maps.Keys(c.announce)) {
		var ps []string
		for _, p := range c.announce[n] {
			ps = append(ps, describePath(p))
		}
		lines = append(lines, fmt.Sprintf("announce %s [%s]", n, strings.Join(ps, "; ")))
	}
	return strings.Join(lines, "\n")
}

// appliedState builds the adapter's view from a desired state, as if it
// had been applied in full.
func appliedState(t *testing.T, d Desired) map[string]applied {
	t.Helper()
	want, err := normalize(d, listening{port: 1790})
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	cur := map[string]applied{}
	for name, s := range want.sessions {
		cur[name] = applied{session: s, paths: maps.Clone(want.paths[name])}
	}
	return cur
}

func TestDiff(t *testing.T) {
	a, b := validSession("a"), validSession("b")
	base := Desired{Sessions: []Session{a, b}, Paths: map[string][]Path{
		"a": {path("198.51.100.1/32"), path("198.51.100.2/32", comms(1))},
		"b": {path("198.51.100.1/32")},
	}}
	tests := []struct {
		name string
		cur  Desired
		want Desired
		diff string
	}{{
		name: "from nothing",
		cur:  Desired{},
		want: base,
		diff: "open a\nopen b\nannounce a [198.51.100.1/32; 198.51.100.2/32 communities [1]]\nannounce b [198.51.100.1/32]",
	}, {
		name: "no change",
		cur:  base,
		want: base,
		diff: "",
	}, {
		name: "to nothing",
		cur:  base,
		want: Desired{},
		diff: "close a\nclose b",
	}, {
		name: "a path withdrawn, one added, one with new attributes",
		cur:  base,
		want: Desired{Sessions: []Session{a, b}, Paths: map[string][]Path{
			"a": {path("198.51.100.2/32", comms(2)), path("198.51.100.3/32")},
			"b": {path("198.51.100.1/32")},
		}},
		diff: "withdraw a [198.51.100.1/32]\nannounce a [198.51.100.2/32 communities [2]; 198.51.100.3/32]",
	}, {
		name: "a new password re-creates the session, with all its paths",
		cur:  base,
		want: Desired{Sessions: []Session{validSession("a", withPassword("s3cret")), b}, Paths: base.Paths},
		diff: "close a\nopen a\nannounce a [198.51.100.1/32; 198.51.100.2/32 communities [1]]",
	}, {
		name: "new timers re-create the session",
		cur:  base,
		want: Desired{Sessions: []Session{a, validSession("b", withHoldTime(30*time.Second))}, Paths: base.Paths},
		diff: "close b\nopen b\nannounce b [198.51.100.1/32]",
	}, {
		name: "an invalid session keeps what it has",
		cur:  base,
		want: Desired{Sessions: []Session{validSession("a", func(s *Session) { s.MyASN = 0 })}, Paths: map[string][]Path{"a": {}}},
		diff: "close b",
	}, {
		name: "order does not matter",
		cur:  base,
		want: Desired{Sessions: []Session{b, a}, Paths: map[string][]Path{
			"a": {path("198.51.100.2/32", comms(1, 1)), path("198.51.100.1/32")},
			"b": {path("198.51.100.1/32")},
		}},
		diff: "",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := normalize(tc.want, listening{port: 1790})
			if got := describeChange(diff(appliedState(t, tc.cur), want)); got != tc.diff {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tc.diff)
			}
		})
	}
}

// applyModel applies a change to the adapter's view the way the speaker
// does when every operation succeeds.
func applyModel(cur map[string]applied, c change, want target) map[string]applied {
	next := map[string]applied{}
	for n, a := range cur {
		next[n] = applied{session: a.session, paths: maps.Clone(a.paths)}
	}
	for _, n := range c.close {
		delete(next, n)
	}
	for _, s := range c.open {
		next[s.Name] = applied{session: s, paths: map[netip.Prefix]Path{}}
	}
	for n, pfxs := range c.withdraw {
		for _, p := range pfxs {
			delete(next[n].paths, p)
		}
	}
	for n, ps := range c.announce {
		for _, p := range ps {
			next[n].paths[p.Prefix] = p
		}
	}
	return next
}

// TestDiffConverges generates random pairs of states (pinned seeds):
// applying the diff from one to the other must reach the target exactly,
// and the diff from the target to itself must be empty.
func TestDiffConverges(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 2))
		from, to := randomDesired(r), randomDesired(r)
		want, _ := normalize(to, listening{port: 1790})
		got := applyModel(appliedState(t, from), diff(appliedState(t, from), want), want)
		if describeApplied(got) != describeApplied(appliedState(t, to)) {
			t.Fatalf("seed %d: applying the diff gives\n%s\nwant\n%s", seed, describeApplied(got), describeApplied(appliedState(t, to)))
		}
		if c := diff(got, want); !c.empty() {
			t.Fatalf("seed %d: diff of a state with itself:\n%s", seed, describeChange(c))
		}
	}
}

func randomDesired(r *rand.Rand) Desired {
	d := Desired{Paths: map[string][]Path{}}
	for _, name := range []string{"a", "b", "c"} {
		if r.IntN(4) == 0 {
			continue
		}
		s := validSession(name)
		if r.IntN(3) == 0 {
			s.Password = "p"
		}
		if r.IntN(3) == 0 {
			s.MyASN = nodeASN + 1
		}
		d.Sessions = append(d.Sessions, s)
		for i := range 6 {
			if r.IntN(2) == 0 {
				continue
			}
			p := path(fmt.Sprintf("198.51.100.%d/32", i))
			if r.IntN(2) == 0 {
				p.Communities = []uint32{uint32(r.IntN(3))}
			}
			d.Paths[name] = append(d.Paths[name], p)
		}
	}
	return d
}

func describeApplied(m map[string]applied) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%+v\n", m[n].session)
		for _, p := range sortedPaths(m[n].paths) {
			fmt.Fprintf(&b, "  %s\n", describePath(p))
		}
	}
	return b.String()
}
