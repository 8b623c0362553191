package reconcile

import (
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/internal/config"
)

// readyConditions returns conditions with Ready set to the verdict. It is
// pure: Ready keeps its lastTransitionTime while its status holds, so an
// unchanged verdict gives identical conditions, and no write.
func readyConditions(cur []metav1.Condition, generation int64, v config.Ready, now metav1.Time) []metav1.Condition {
	out := slices.Clone(cur)
	status := metav1.ConditionFalse
	if v.OK {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&out, metav1.Condition{
		Type: ConditionReady, Status: status, Reason: v.Reason, Message: v.Message,
		ObservedGeneration: generation, LastTransitionTime: now,
	})
	return out
}
