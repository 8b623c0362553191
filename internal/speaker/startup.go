package speaker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/kube"
)

// MemberlistSecretKey is the key of the memberlist Secret that holds the
// gossip key.
const MemberlistSecretKey = "secretkey"

// ErrNoMemberlistKey means the speaker cannot encrypt its gossip, and so
// refuses to start: speakers that gossip in the clear can be fed forged
// membership by anyone on the network.
var ErrNoMemberlistKey = errors.New("no memberlist key")

// MemberlistKey reads the gossip key from the Secret name in Herald's
// namespace and derives memberlist's 32-byte AES key from it with SHA-256,
// so that any string of at least 16 bytes will do.
func MemberlistKey(ctx context.Context, r client.Reader, name string) ([]byte, error) {
	create := fmt.Sprintf("create it with: kubectl create secret generic -n %s %s --from-literal=%s=\"$(openssl rand -base64 32)\"", kube.Namespace, name, MemberlistSecretKey)
	var sec corev1.Secret
	err := r.Get(ctx, client.ObjectKey{Namespace: kube.Namespace, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: Secret %s/%s does not exist; %s", ErrNoMemberlistKey, kube.Namespace, name, create)
	}
	if err != nil {
		return nil, fmt.Errorf("read memberlist Secret %s/%s: %w", kube.Namespace, name, err)
	}
	v := sec.Data[MemberlistSecretKey]
	if len(v) < 16 {
		return nil, fmt.Errorf("%w: Secret %s/%s has no key %q of at least 16 bytes; %s", ErrNoMemberlistKey, kube.Namespace, name, MemberlistSecretKey, create)
	}
	sum := sha256.Sum256(v)
	return sum[:], nil
}

// NodeAddress returns the address other speakers reach this node at: its
// first InternalIP, IPv4 first, as the kubelet reports it.
func NodeAddress(ctx context.Context, r client.Reader, node string) (netip.Addr, error) {
	var n corev1.Node
	if err := r.Get(ctx, client.ObjectKey{Name: node}, &n); err != nil {
		return netip.Addr{}, fmt.Errorf("read Node %s for its address: %w", node, err)
	}
	ips := internalIPs(&n)
	for _, ip := range ips {
		if ip.Is4() {
			return ip, nil
		}
	}
	if len(ips) > 0 {
		return ips[0], nil
	}
	return netip.Addr{}, fmt.Errorf("Node %s reports no InternalIP: set --memberlist-advertise-address", node)
}
