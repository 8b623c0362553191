package lab

import (
	"context"
	"fmt"

	"github.com/heraldlb/herald/internal/testenv"
)

// OnControlPlane returns a Lab made of an apiserver alone: Node objects for
// nodes lab nodes (with the lab's addresses) and Herald's namespace, but no
// network namespaces, router or Herald processes. It needs no root and
// takes no lab lock, so tools that drive only the apiserver (the
// controller-only soak) reuse the Lab's Service helpers beside a running
// lab. The caller owns env and stops it; Close does nothing for this Lab,
// and nothing that needs the network (probes, speakers) works on it.
func OnControlPlane(ctx context.Context, env *testenv.Env, nodes int) (*Lab, error) {
	l := &Lab{Env: env, Kubeconfig: env.Kubeconfig}
	for i := 1; i <= nodes; i++ {
		v4, v6 := NodeAddrs(i)
		l.Nodes = append(l.Nodes, Node{Name: NodeName(i), IPv4: v4, IPv6: v6})
	}
	if err := createNodes(ctx, env.Client, l.Nodes); err != nil {
		return nil, fmt.Errorf("control-plane lab: %w", err)
	}
	if err := ensureNamespace(ctx, env.Client, HeraldNamespace); err != nil {
		return nil, fmt.Errorf("control-plane lab: %w", err)
	}
	return l, nil
}
