package announcement

import "github.com/heraldlb/herald/api/v1beta1"

// Alive names the speakers alive on the majority side, from their
// HeraldNodes: those that another claiming speaker sees in memberlist. A
// speaker's word on itself does not count while others claim, for a
// speaker that crashed leaves its HeraldNode behind, still Ready, claiming
// and listing itself; only a speaker that claims alone (the tie-breaker
// side of two) vouches for itself. quorum says whether any speaker claims.
func Alive(nodes []v1beta1.HeraldNode) (alive map[string]bool, quorum bool) {
	alive = map[string]bool{}
	var claiming []*v1beta1.HeraldNode
	for i := range nodes {
		if nodes[i].Status.Quorum.Claims {
			claiming = append(claiming, &nodes[i])
		}
	}
	for _, n := range claiming {
		for _, m := range n.Status.Members {
			if m != n.Name || len(claiming) == 1 {
				alive[m] = true
			}
		}
	}
	return alive, len(claiming) > 0
}
