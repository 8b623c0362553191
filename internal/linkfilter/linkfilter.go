// Package linkfilter decides which of a node's interfaces the speaker may
// answer ARP and NDP on. Some never: an interface that does not do ARP, a
// bond's or a bridge's member (the bond or bridge answers for it), and the
// devices a CNI plugin makes for pods and tunnels, which a node can have by
// the hundred. The operator can narrow the choice further by name.
//
// It is pure: link attributes in, a verdict out.
package linkfilter

import (
	"fmt"
	"regexp"
	"strings"
)

// Link is what the decision reads of an interface.
type Link struct {
	Name string
	// NoARP: the interface has IFF_NOARP set.
	NoARP bool
	// MasterKind is the link type of the interface's master ("bond",
	// "bridge", "team", "openvswitch", "vrf", ...), "" if it has none.
	MasterKind string
}

// DefaultExclude are the names of the interfaces CNI plugins, container
// runtimes and kube-proxy create, which never carry a LoadBalancer IP's
// segment: pod veths (Calico, Cilium, Flannel, Weave, Antrea, OVN, bridge
// CNI), tunnels and overlays, and IPVS's dummy device.
var DefaultExclude = []string{
	`^veth`, `^cali`, `^lxc`, `^cilium_`, `^flannel`, `^cni`, `^cbr`, `^docker`, `^virbr`,
	`^tunl`, `^vxlan`, `^genev`, `^weave`, `^antrea-`, `^ovn-`, `^ovs-`, `^br-int$`,
	`^kube-ipvs`, `^kube-bridge$`, `^nodelocaldns$`, `^dummy`, `^nerdctl`, `^podman`, `^tap`,
}

// enslavedTo are the master kinds whose members must not answer: the frames
// of a bond's or a bridge's members belong to the master.
var enslavedTo = map[string]bool{"bond": true, "bridge": true, "team": true, "openvswitch": true}

// Rules are the operator's choice of interfaces, by name.
type Rules struct {
	include, exclude []*regexp.Regexp
}

// New compiles include (empty: every name) and exclude (nil: DefaultExclude;
// empty: none) regular expressions. An interface is considered when its
// name matches some include and no exclude.
func New(include, exclude []string) (Rules, error) {
	if exclude == nil {
		exclude = DefaultExclude
	}
	var r Rules
	var err error
	if r.include, err = compile(include); err != nil {
		return Rules{}, fmt.Errorf("interfaces to include: %w", err)
	}
	if r.exclude, err = compile(exclude); err != nil {
		return Rules{}, fmt.Errorf("interfaces to exclude: %w", err)
	}
	return r, nil
}

func compile(exprs []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, e := range exprs {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("%q is not a regular expression: %w", e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// Why returns why the speaker must not answer on l, or "" if it may.
func (r Rules) Why(l Link) string {
	switch {
	case l.NoARP:
		return "it does not do ARP (NOARP)"
	case enslavedTo[l.MasterKind]:
		return fmt.Sprintf("it is a member of a %s, which answers for it", l.MasterKind)
	}
	for _, re := range r.exclude {
		if re.MatchString(l.Name) {
			return fmt.Sprintf("its name matches the excluded pattern %s", re)
		}
	}
	if len(r.include) == 0 {
		return ""
	}
	for _, re := range r.include {
		if re.MatchString(l.Name) {
			return ""
		}
	}
	return "its name matches none of the included patterns"
}
