package speaker

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/heraldlb/herald/internal/election"
)

func TestUnexpired(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	addr := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	lease := func(node string, age time.Duration, a string) speakerLease {
		l := speakerLease{SpeakerLease: election.SpeakerLease{Node: node, Duration: 30 * time.Second}}
		if age >= 0 {
			l.Renewed = now.Add(-age)
		}
		if a != "" {
			l.Addr = addr(a)
		}
		return l
	}
	tests := []struct {
		name      string
		leases    []speakerLease
		wantNodes []string
		wantPeers []netip.AddrPort
	}{
		{"none", nil, nil, nil},
		{"fresh", []speakerLease{lease("a", time.Second, "198.51.100.1:7946")}, []string{"a"}, []netip.AddrPort{addr("198.51.100.1:7946")}},
		{"at the very end of its duration", []speakerLease{lease("a", 30*time.Second, "198.51.100.1:7946")}, []string{"a"}, []netip.AddrPort{addr("198.51.100.1:7946")}},
		{"expired", []speakerLease{lease("a", 31*time.Second, "198.51.100.1:7946")}, nil, nil},
		{"a deleted node's, an hour old", []speakerLease{lease("gone", time.Hour, "198.51.100.9:7946"), lease("b", 0, "[2001:db8::2]:7946")},
			[]string{"b"}, []netip.AddrPort{addr("[2001:db8::2]:7946")}},
		{"never renewed", []speakerLease{lease("a", -1, "198.51.100.1:7946")}, nil, nil},
		{"fresh without an address is known, not dialled", []speakerLease{lease("a", 0, "")}, []string{"a"}, nil},
		{"peers sorted", []speakerLease{lease("b", 0, "198.51.100.2:7946"), lease("a", 0, "198.51.100.1:7946")},
			[]string{"b", "a"}, []netip.AddrPort{addr("198.51.100.1:7946"), addr("198.51.100.2:7946")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live, peers := unexpired(tt.leases, now)
			var nodes []string
			for _, l := range live {
				nodes = append(nodes, l.Node)
			}
			if !slices.Equal(nodes, tt.wantNodes) || !slices.Equal(peers, tt.wantPeers) {
				t.Errorf("unexpired = %v %v, want %v %v", nodes, peers, tt.wantNodes, tt.wantPeers)
			}
		})
	}
}

// Before this speaker has renewed its own Lease, and while it cannot, no
// Lease expires: a speaker cut off from the apiserver keeps every speaker
// it knew, and keeps dialling them.
func TestNothingExpiresBeforeTheOwnRenewal(t *testing.T) {
	old := speakerLease{SpeakerLease: election.SpeakerLease{Node: "a", Renewed: time.Unix(0, 0), Duration: time.Second},
		Addr: netip.MustParseAddrPort("198.51.100.1:7946")}
	if live, peers := unexpired([]speakerLease{old}, time.Time{}); len(live) != 1 || len(peers) != 1 {
		t.Errorf("unexpired at a zero own renewal = %v %v, want the Lease kept", live, peers)
	}
}
