package explain

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/ipam"
)

// poolVerdicts says, for a Service without an IP, what each IPAddressPool
// makes of it, by the allocator's own rules. The controller's Event names
// the failure ("no auto-assign pool accepts service …"); these lines name
// the pool and the rule, which the user has to change.
func poolVerdicts(in Inputs) []string {
	req, err := config.Request(&in.Service, in.NamespaceLabels)
	if err != nil {
		return []string{"The controller cannot read what the Service asks for: " + err.Error() + "."}
	}
	cfg := config.Pools(in.Config.Pools)
	specs := map[string]*v1beta1.IPAddressPool{}
	for i := range in.Config.Pools {
		specs[in.Config.Pools[i].Name] = &in.Config.Pools[i]
	}
	if _, ok := specs[req.Pool]; req.Pool != "" && !ok {
		return []string{fmt.Sprintf("The Service names IPAddressPool %s (%s), which does not exist.", req.Pool, config.AnnotationAddressPool)}
	}
	if len(specs) == 0 {
		return []string{"There is no IPAddressPool (kubectl get ipaddresspools)."}
	}
	var out []string
	for _, p := range cfg.Pools {
		if req.Pool == "" || req.Pool == p.Name {
			out = append(out, fmt.Sprintf("  IPAddressPool %s: %s.", p.Name, poolVerdict(p, specs[p.Name], req)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Problems)) {
		if prob := cfg.Problems[name]; req.Pool == "" || req.Pool == name {
			out = append(out, fmt.Sprintf("  IPAddressPool %s: not in force (%s): %s.", name, prob.Reason, prob.Message))
		}
	}
	return out
}

// poolVerdict says whether pool p, of spec, would give the Service of req
// an address, and if not, which of its rules refuses.
func poolVerdict(p ipam.Pool, spec *v1beta1.IPAddressPool, req ipam.Request) string {
	switch {
	case p.Deleting:
		return "being deleted, so it gives out no new address"
	case !p.Allows(req):
		return "does not accept the Service: " + allocationRules(spec, req)
	case !p.AutoAssign && req.Pool == "" && len(req.RequestedIPs) == 0:
		return fmt.Sprintf("autoAssign is false: it gives addresses only to Services that name it (%s) or ask for one of its IPs", config.AnnotationAddressPool)
	case spec.Status.Available == "0":
		// The controller's count: the speaker-side config has no allocator.
		return "accepts the Service, but its status says no address is free (available 0)"
	}
	return "accepts the Service"
}

// allocationRules describes the serviceAllocation rules of spec that pin
// the pool, beside the Service's namespace.
func allocationRules(spec *v1beta1.IPAddressPool, req ipam.Request) string {
	a := spec.Spec.ServiceAllocation
	if a == nil {
		return "its rules refuse it"
	}
	var rules []string
	if len(a.Namespaces) > 0 {
		rules = append(rules, "namespaces "+strings.Join(a.Namespaces, ", "))
	}
	if len(a.NamespaceSelectors) > 0 {
		rules = append(rules, "namespaceSelectors")
	}
	if len(a.ServiceSelectors) > 0 {
		rules = append(rules, "serviceSelectors on the Service's labels")
	}
	return fmt.Sprintf("its serviceAllocation allows only %s, and the Service is in namespace %s", strings.Join(rules, "; "), req.Namespace)
}
