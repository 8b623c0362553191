package election

import (
	"slices"
	"testing"
	"time"
)

func TestSilence(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const after = 6 * time.Second
	lease := func(node string, renewed time.Time) SpeakerLease {
		return SpeakerLease{Node: node, Renewed: renewed, Duration: 30 * time.Second}
	}
	self := []string{"node1"}
	// node2 and node3 were last seen renewed at t0 and die; node3's clock
	// is an hour behind, which changes nothing.
	leases := []SpeakerLease{lease("node2", t0.Add(-time.Second)), lease("node3", t0.Add(-time.Hour))}
	s := Silences(nil, leases, t0)
	if got := Silent(s, self, t0.Add(5*time.Second), after); len(got) != 0 {
		t.Errorf("silent after 5s: %v", got)
	}
	if due := SilentDue(s, self, t0.Add(5*time.Second), after); !due.Equal(t0.Add(after)) {
		t.Errorf("due %v, want %v", due, t0.Add(after))
	}
	// Alive in memberlist: never silent, however long its Lease is.
	if got := Silent(s, all3, t0.Add(time.Minute), after); len(got) != 0 {
		t.Errorf("silent while alive: %v", got)
	}
	if due := SilentDue(s, all3, t0, after); !due.IsZero() {
		t.Errorf("due %v while every speaker is alive", due)
	}
	// node2 renews at t0+4s: it is alive, whatever memberlist says.
	leases[0] = lease("node2", t0.Add(4*time.Second))
	s = Silences(s, leases, t0.Add(4*time.Second))
	if got := Silent(s, self, t0.Add(7*time.Second), after); !slices.Equal(got, []string{"node3"}) {
		t.Errorf("silent at t0+7s: %v, want node3 only", got)
	}
	if got := Silent(s, self, t0.Add(10*time.Second), after); !slices.Equal(got, []string{"node2", "node3"}) {
		t.Errorf("silent at t0+10s: %v, want both", got)
	}
	// A speaker cut off from the apiserver has not renewed its own: nobody
	// is silent, however long it waits.
	if got := Silent(s, self, time.Time{}, after); len(got) != 0 {
		t.Errorf("silent without an own renewal: %v", got)
	}
	if due := SilentDue(s, self, t0.Add(10*time.Second), after); !due.IsZero() {
		t.Errorf("due %v after every silence was judged", due)
	}
	// A Lease that goes is forgotten.
	if s = Silences(s, leases[:1], t0.Add(11*time.Second)); len(s) != 1 {
		t.Errorf("silences %v after node3's Lease went", s)
	}
}

var all3 = []string{"node1", "node2", "node3"}
