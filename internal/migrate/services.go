package migrate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// ServicePlan is what becomes of one LoadBalancer Service: Herald adopts
// the IPs it has, from the pool that holds them.
type ServicePlan struct {
	// Key is namespace/name.
	Key string
	// IPs are the Service's current IPs, which it keeps.
	IPs []netip.Addr
	// Pool is the Herald pool that holds the IPs ("" if none does).
	Pool string
	// MetalLBPool is the pool MetalLB noted in ip-allocated-from-pool.
	MetalLBPool string
	// Annotations are the MetalLB annotations Herald reads as its own.
	Annotations []string
	// Problem, if set, says why Herald might not keep the IPs as they are.
	Problem string
}

// Services plans the adoption of LoadBalancer Services by the Herald pools
// a migration creates. Services without an IP are left out: Herald simply
// allocates them one.
func Services(svcs []corev1.Service, pools []v1beta1.IPAddressPool) []ServicePlan {
	cfg := config.Pools(pools)
	var out []ServicePlan
	for i := range svcs {
		svc := &svcs[i]
		ips := config.IngressIPs(svc)
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(ips) == 0 {
			continue
		}
		p := ServicePlan{Key: svc.Namespace + "/" + svc.Name, IPs: ips, MetalLBPool: config.AllocatedFromPool(svc)}
		for k := range svc.Annotations {
			if strings.HasPrefix(k, "metallb.io/") || strings.HasPrefix(k, "metallb.universe.tf/") {
				p.Annotations = append(p.Annotations, k)
			}
		}
		slices.Sort(p.Annotations)
		p.Pool, p.Problem = holder(cfg, ips)
		if _, err := config.Request(svc, nil); err != nil && p.Problem == "" {
			p.Problem = "Herald keeps its IPs but reports its annotations: " + err.Error()
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ServicePlan) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// holder finds the one pool that holds every IP.
func holder(cfg config.Config, ips []netip.Addr) (string, string) {
	var names []string
	for _, ip := range ips {
		name := ""
		for _, pool := range cfg.Pools {
			for _, r := range pool.Ranges {
				if r.Contains(ip) {
					name = pool.Name
				}
			}
		}
		if name == "" {
			return "", fmt.Sprintf("no migrated pool holds %s: Herald will move the Service to a new IP from a pool", ip)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if names = slices.Compact(names); len(names) > 1 {
		return "", fmt.Sprintf("its IPs are in different pools (%s): Herald will move the Service to new IPs from one pool", strings.Join(names, ", "))
	}
	return names[0], ""
}
