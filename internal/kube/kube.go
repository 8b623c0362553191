package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Namespace is where Herald runs: its Leases, its Secrets and its Events
// about itself live there. RBAC in config/rbac grants Secret and Lease
// access in this namespace only.
const Namespace = "herald-system"

// Scheme knows the built-in kinds and Herald's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("add built-in kinds to scheme: %w", err)
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("add Herald kinds to scheme: %w", err)
	}
	return s, nil
}

// SpeakerSecretsRole is the Role, in Namespace, that lets the speakers read
// the Secrets they need and no others: the memberlist key and each Secret a
// BGPPeer's passwordSecret names. RBAC cannot name Secrets chosen at run
// time, so the controller keeps its resourceNames up to date, and the
// speaker watches each of those Secrets by name.
const SpeakerSecretsRole = "herald-speaker-secrets"

// DefaultMemberlistSecret is the Secret whose key encrypts the speakers'
// gossip, unless --memberlist-secret says otherwise.
const DefaultMemberlistSecret = "herald-memberlist"
