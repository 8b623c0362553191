package config

import (
	"slices"

	"github.com/heraldlb/herald/api/v1beta1"
)

// PasswordSecrets are the names of the Secrets in namespace that peers
// take their passwords from, sorted, each once. The controller grants the
// speakers these and no other Secrets; the speaker watches each by name.
// A reference to another namespace is left out: the speaker may read
// Secrets only in its own.
func PasswordSecrets(peers []v1beta1.BGPPeer, namespace string) []string {
	var out []string
	for i := range peers {
		if r := peers[i].Spec.PasswordSecret; r != nil && r.Namespace == namespace && r.Name != "" {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
