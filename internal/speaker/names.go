package speaker

import (
	"crypto/sha256"
	"encoding/hex"
)

// Object names in Herald's namespace.
const (
	// TieBreakerLease settles an exact half split (see internal/election).
	TieBreakerLease = "herald-l2-tiebreaker"
	// LabelComponent marks the speakers' Leases and records.
	LabelComponent = "app.kubernetes.io/component"
	componentValue = "speaker"
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
