package speaker

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

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
