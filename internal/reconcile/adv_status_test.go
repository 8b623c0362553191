package reconcile

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/internal/config"
)

func TestReadyConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Unix(1_700_000_000, 0))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	ok := config.Ready{OK: true, Reason: config.ReasonAccepted, Message: "selects pool lan"}
	bad := config.Ready{Reason: config.ReasonUnknownPool, Message: `names pool "x" which does not exist`}
	other := metav1.Condition{Type: "Other", Status: metav1.ConditionTrue, Reason: "R", LastTransitionTime: t0}
	tests := []struct {
		name      string
		cur       []metav1.Condition
		gen       int64
		v         config.Ready
		status    metav1.ConditionStatus
		since     metav1.Time
		conds     int
		unchanged bool
	}{
		{"first verdict", nil, 1, bad, metav1.ConditionFalse, t1, 1, false},
		{"same verdict keeps everything", readyConditions(nil, 1, bad, t0), 1, bad, metav1.ConditionFalse, t0, 1, true},
		{"turns true", readyConditions(nil, 1, bad, t0), 2, ok, metav1.ConditionTrue, t1, 1, false},
		{"new message, same status keeps the time", readyConditions(nil, 1, ok, t0), 1,
			config.Ready{OK: true, Reason: config.ReasonAccepted, Message: "selects pools dual, lan"}, metav1.ConditionTrue, t0, 1, false},
		{"other conditions stay", []metav1.Condition{other}, 1, ok, metav1.ConditionTrue, t1, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := cloneConds(tt.cur)
			got := readyConditions(tt.cur, tt.gen, tt.v, t1)
			if !equality.Semantic.DeepEqual(tt.cur, orig) {
				t.Fatalf("the current conditions were modified")
			}
			if len(got) != tt.conds {
				t.Fatalf("conditions = %+v, want %d", got, tt.conds)
			}
			c := meta.FindStatusCondition(got, ConditionReady)
			if c == nil || c.Status != tt.status || c.Reason != tt.v.Reason || c.Message != tt.v.Message ||
				c.ObservedGeneration != tt.gen || !c.LastTransitionTime.Equal(&tt.since) {
				t.Errorf("Ready = %+v, want %s %s since %v at generation %d", c, tt.status, tt.v.Reason, tt.since, tt.gen)
			}
			if same := equality.Semantic.DeepEqual(tt.cur, got); same != tt.unchanged {
				t.Errorf("unchanged = %v, want %v", same, tt.unchanged)
			}
			// Recomputing changes nothing.
			if again := readyConditions(got, tt.gen, tt.v, t1); !equality.Semantic.DeepEqual(again, got) {
				t.Errorf("recomputing changed the conditions: %+v", again)
			}
		})
	}
}

func cloneConds(c []metav1.Condition) []metav1.Condition {
	return append([]metav1.Condition(nil), c...)
}
