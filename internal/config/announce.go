package config

import (
	"cmp"
	"net/netip"
	"slices"

	"go4.org/netipx"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
)

// Announce is the speaker's view of the configuration: the pools in force
// and the advertisements that announce their addresses.
type Announce struct {
	// Pools are the pools in force, oldest first, as the controller sees
	// them: a pool that overlaps an older one or does not parse is left out,
	// and a pool being deleted stays while Services hold its addresses.
	Pools []AnnouncedPool
	// L2 are the valid L2Advertisements, sorted by name.
	L2 []L2Advertisement
	// BGP are the valid BGPAdvertisements, sorted by name, with community
	// aliases resolved; Peers the valid BGPPeers, sorted by name.
	BGP   []BGPAdvertisement
	Peers []BGPPeer
	// Problems holds, by "Kind/name", the objects that are not in force and
	// why.
	Problems map[string]Problem
}

// AnnouncedPool is a pool's addresses and labels.
type AnnouncedPool struct {
	Name   string
	Labels map[string]string
	Ranges []netipx.IPRange
}

// Contains reports whether ip is one of the pool's addresses.
func (p AnnouncedPool) Contains(ip netip.Addr) bool {
	for _, r := range p.Ranges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

// L2Advertisement announces pools' addresses over ARP and NDP.
type L2Advertisement struct {
	Name string
	// Pools are the names of the pools it announces, resolved from
	// ipAddressPools and ipAddressPoolSelectors; AllPools when it names
	// neither.
	Pools    map[string]bool
	AllPools bool
	// NodeSelectors limit the nodes that may announce: a node qualifies if
	// it matches any of them. None means every node.
	NodeSelectors []ipam.Selector
	// Interfaces limit where a node answers; none means no limit.
	Interfaces []string
	// ServiceSelectors limit the Services it announces; none means all.
	ServiceSelectors []ipam.Selector
}

// SelectsService reports whether the advertisement announces a Service
// with these labels.
func (a L2Advertisement) SelectsService(labels map[string]string) bool {
	return matchesAny(a.ServiceSelectors, labels)
}

// Selects reports whether the advertisement announces the named pool.
func (a L2Advertisement) Selects(pool string) bool { return a.AllPools || a.Pools[pool] }

// SelectsNode reports whether a node with these labels may announce.
func (a L2Advertisement) SelectsNode(labels map[string]string) bool {
	return matchesAny(a.NodeSelectors, labels)
}

// Covers reports whether an advertisement of the given mode ("L2" or "BGP")
// selects the pool that contains ip.
func (a Announce) Covers(ip netip.Addr, mode string) bool {
	p, ok := a.PoolOf(ip)
	if !ok {
		return false
	}
	if mode == "L2" {
		return slices.ContainsFunc(a.L2, func(x L2Advertisement) bool { return x.Selects(p.Name) })
	}
	return slices.ContainsFunc(a.BGP, func(x BGPAdvertisement) bool { return x.Selects(p.Name) })
}

// PoolOf returns the pool in force that contains ip. Pools in force never
// overlap, so there is at most one.
func (a Announce) PoolOf(ip netip.Addr) (AnnouncedPool, bool) {
	for _, p := range a.Pools {
		if p.Contains(ip) {
			return p, true
		}
	}
	return AnnouncedPool{}, false
}

// Objects are the configuration objects the speaker reads.
type Objects struct {
	Pools       []v1beta1.IPAddressPool
	L2          []v1beta1.L2Advertisement
	BGP         []v1beta1.BGPAdvertisement
	Peers       []v1beta1.BGPPeer
	Communities []v1beta1.Community
}

// Announcements converts the configuration objects into the speaker's
// configuration. Pools follow the controller's rules exactly (see Pools), so
// that the speaker finds an IP in the same pool the controller gave it from.
func Announcements(objs Objects) Announce {
	pools, l2 := objs.Pools, objs.L2
	cfg := Pools(pools)
	out := Announce{Problems: map[string]Problem{}}
	labels := map[string]map[string]string{}
	for i := range pools {
		labels[pools[i].Name] = pools[i].Labels
	}
	for name, p := range cfg.Problems {
		out.Problems["IPAddressPool/"+name] = p
	}
	for _, p := range cfg.Pools {
		out.Pools = append(out.Pools, AnnouncedPool{Name: p.Name, Labels: labels[p.Name], Ranges: p.Ranges})
	}
	for i := range l2 {
		adv, err := l2Advertisement(&l2[i], out.Pools)
		if err != nil {
			out.Problems["L2Advertisement/"+l2[i].Name] = Problem{Reason: ReasonInvalidSelector, Message: err.Error()}
			continue
		}
		out.L2 = append(out.L2, adv)
	}
	slices.SortFunc(out.L2, func(a, b L2Advertisement) int { return cmp.Compare(a.Name, b.Name) })
	out.bgp(objs.Peers, objs.BGP, objs.Communities)
	return out
}

func l2Advertisement(item *v1beta1.L2Advertisement, pools []AnnouncedPool) (L2Advertisement, error) {
	adv := L2Advertisement{Name: item.Name, Interfaces: slices.Clone(item.Spec.Interfaces)}
	slices.Sort(adv.Interfaces)
	adv.Interfaces = slices.Compact(adv.Interfaces)
	var err error
	if adv.NodeSelectors, err = selectors("nodeSelectors", item.Spec.NodeSelectors); err != nil {
		return L2Advertisement{}, err
	}
	if adv.ServiceSelectors, err = selectors("serviceSelectors", item.Spec.ServiceSelectors); err != nil {
		return L2Advertisement{}, err
	}
	adv.Pools, adv.AllPools, err = selectPools(item.Spec.IPAddressPools, item.Spec.IPAddressPoolSelectors, pools)
	if err != nil {
		return L2Advertisement{}, err
	}
	return adv, nil
}

// selectPools resolves an advertisement's pool names and selectors against
// the pools in force. Naming neither selects every pool, as in MetalLB.
// A named pool that does not exist (yet) selects nothing until it does.
func selectPools(names []string, sels []metav1.LabelSelector, pools []AnnouncedPool) (map[string]bool, bool, error) {
	if len(names) == 0 && len(sels) == 0 {
		return nil, true, nil
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	match, err := selectors("ipAddressPoolSelectors", sels)
	if err != nil {
		return nil, false, err
	}
	if len(match) == 0 {
		return out, false, nil
	}
	for _, p := range pools {
		if matchesAny(match, p.Labels) {
			out[p.Name] = true
		}
	}
	return out, false, nil
}

// matchesAny reports whether labels match any selector; no selectors match
// everything.
func matchesAny(sels []ipam.Selector, labels map[string]string) bool {
	if len(sels) == 0 {
		return true
	}
	for _, s := range sels {
		if s(labels) {
			return true
		}
	}
	return false
}
