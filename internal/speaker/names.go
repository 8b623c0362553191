package speaker

import (
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Object names in Herald's namespace.
const (
	// TieBreakerLease settles an exact half split (see internal/election).
	TieBreakerLease = "herald-l2-tiebreaker"
	// LabelComponent marks the speakers' Leases and HeraldNodes.
	LabelComponent = "app.kubernetes.io/component"
	componentValue = "speaker"
	// tieBreakerComponent is the tie-breaker Lease's component.
	tieBreakerComponent = "speaker-tiebreaker"
	// LabelName names Herald on the speakers' Leases.
	LabelName = "app.kubernetes.io/name"
	// AnnotationMemberlistAddr on a speaker's Lease is its memberlist
	// address, host:port.
	AnnotationMemberlistAddr = "heraldlb.io/memberlist-address"
	// AnnotationSide on the tie-breaker Lease lists the speakers on the
	// holder's side, for people reading it.
	AnnotationSide = "heraldlb.io/side"
)

// ObjectName is the name of a node's speaker Lease and of its record
// (ConfigMap): "herald-speaker-<node>". Node names may be 253 characters
// long, which the prefix would overflow; such names are cut and given a
// hash, so that distinct nodes keep distinct objects.
func ObjectName(node string) string {
	const prefix = "herald-speaker-"
	name := prefix + node
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(node))
	h := hex.EncodeToString(sum[:8])
	return name[:253-len(h)-1] + "-" + h
}

// leaseLabels are the labels of a speaker Lease of component c.
func leaseLabels(c string) map[string]string {
	return map[string]string{LabelComponent: c, LabelName: "herald"}
}

// LeaseSelector selects the Leases the speaker's cache holds: the speakers'
// and the tie-breaker, not others in Herald's namespace, such as the
// controller's leader election. It selects by component only, which
// speakers of earlier releases already set on their Leases, so that their
// Leases are found during an upgrade.
func LeaseSelector() labels.Selector {
	r, err := labels.NewRequirement(LabelComponent, selection.In, []string{componentValue, tieBreakerComponent})
	if err != nil {
		panic(err) // constant, valid arguments
	}
	return labels.NewSelector().Add(*r)
}
