package reconcile

import (
	"math/big"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
)

func fstats(size, inUse int64) ipam.FamilyStats {
	return ipam.FamilyStats{Size: big.NewInt(size), InUse: big.NewInt(inUse), Available: big.NewInt(size - inUse)}
}

func TestPoolStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1_700_000_000, 0))
	t1 := metav1.NewTime(t0.Add(time.Hour))
	big64, _ := new(big.Int).SetString("18446744073709551616", 10)
	inForce := poolFacts{InForce: true, Stats: ipam.PoolStats{IPv4: fstats(256, 3), IPv6: ipam.FamilyStats{Size: big64, InUse: big.NewInt(1), Available: new(big.Int).Sub(big64, big.NewInt(1))}}}
	tests := []struct {
		name     string
		facts    poolFacts
		deleting bool
		// want: condition type → status/reason; "-" means absent.
		want      map[string]string
		wantCount [2]string // inUse, available
		wantMsg   map[string]string
	}{
		{
			name: "ready", facts: inForce,
			want:      map[string]string{ConditionReady: "True/Ready", ConditionAddressesOrphaned: "False/NoOrphans", ConditionDeleting: "-"},
			wantCount: [2]string{"4", "18446744073709551868"},
		},
		{
			name:  "overlap",
			facts: poolFacts{Problem: config.Problem{Reason: config.ReasonOverlap, Message: `addresses overlap those of the older pool "old"`}},
			want:  map[string]string{ConditionReady: "False/Overlap"}, wantCount: [2]string{"0", "0"},
			wantMsg: map[string]string{ConditionReady: `addresses overlap those of the older pool "old"`},
		},
		{
			name: "deleting with users", deleting: true,
			facts:   poolFacts{InForce: true, Users: 2, Stats: inForce.Stats},
			want:    map[string]string{ConditionReady: "False/BeingDeleted", ConditionDeleting: "True/InUse"},
			wantMsg: map[string]string{ConditionDeleting: "deletion waits for 2 Services that still use addresses of this pool"},
		},
		{
			name:    "orphans",
			facts:   poolFacts{InForce: true, Users: 1, Orphans: 1, Stats: inForce.Stats},
			want:    map[string]string{ConditionReady: "True/Ready", ConditionAddressesOrphaned: "True/AddressesOutsidePool"},
			wantMsg: map[string]string{ConditionAddressesOrphaned: "1 Service keep addresses that this pool no longer contains"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := poolStatus(v1beta1.IPAddressPoolStatus{}, 3, tt.deleting, tt.facts, t0)
			if got.ObservedGeneration != 3 {
				t.Errorf("observedGeneration = %d", got.ObservedGeneration)
			}
			if tt.wantCount[0] != "" && (got.InUse != tt.wantCount[0] || got.Available != tt.wantCount[1]) {
				t.Errorf("inUse, available = %s, %s; want %v", got.InUse, got.Available, tt.wantCount)
			}
			for typ, w := range tt.want {
				c := findCond(got.Conditions, typ)
				switch {
				case w == "-" && c != nil:
					t.Errorf("%s = %+v, want absent", typ, c)
				case w != "-" && (c == nil || string(c.Status)+"/"+c.Reason != w):
					t.Errorf("%s = %+v, want %s", typ, c, w)
				case c != nil && c.ObservedGeneration != 3:
					t.Errorf("%s observedGeneration = %d", typ, c.ObservedGeneration)
				}
			}
			for typ, w := range tt.wantMsg {
				if c := findCond(got.Conditions, typ); c == nil || c.Message != w {
					t.Errorf("%s message = %+v, want %q", typ, c, w)
				}
			}
			// Recomputing later from the result changes nothing: no write.
			again := poolStatus(got, 3, tt.deleting, tt.facts, t1)
			if !equality.Semantic.DeepEqual(got, again) {
				t.Errorf("recomputed status differs:\n%+v\n%+v", got, again)
			}
		})
	}
}

func TestPoolStatusTransitionTime(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1_700_000_000, 0))
	t1 := metav1.NewTime(t0.Add(time.Hour))
	s := poolStatus(v1beta1.IPAddressPoolStatus{}, 1, false, poolFacts{InForce: true}, t0)
	s = poolStatus(s, 2, false, poolFacts{Problem: config.Problem{Reason: "Overlap"}}, t1)
	if c := findCond(s.Conditions, ConditionReady); !c.LastTransitionTime.Equal(&t1) || c.ObservedGeneration != 2 {
		t.Errorf("Ready after a change = %+v, want transition at %v", c, t1)
	}
	if c := findCond(s.Conditions, ConditionAddressesOrphaned); !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("unchanged condition moved its transition time: %+v", c)
	}
	s = poolStatus(s, 2, true, poolFacts{InForce: true, Users: 1}, t1)
	s = poolStatus(s, 2, false, poolFacts{InForce: true}, t1)
	if findCond(s.Conditions, ConditionDeleting) != nil {
		t.Errorf("Deleting condition kept after deletion stopped")
	}
}

func findCond(cs []metav1.Condition, typ string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}
