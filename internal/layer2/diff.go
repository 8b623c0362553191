package layer2

import (
	"net/netip"
	"slices"

	"github.com/mdlayher/ndp"
)

// byListener groups the valid pairs of desired by the listener that answers
// for them. Invalid pairs come back as errors; duplicates collapse.
func byListener(desired []Announcement) (map[key]addrSet, []error) {
	want := map[key]addrSet{}
	var errs []error
	for _, a := range desired {
		if err := checkPair(a.IP, a.Interface); err != nil {
			errs = append(errs, err)
			continue
		}
		k := key{iface: a.Interface, proto: protocolOf(a.IP)}
		if want[k] == nil {
			want[k] = addrSet{}
		}
		want[k][a.IP] = struct{}{}
	}
	return want, errs
}

// newPairs returns the pairs of after that are not in before, sorted. Both
// must be sorted by Announcement.Compare.
func newPairs(before, after []Announcement) []Announcement {
	var out []Announcement
	for _, a := range after {
		if _, found := slices.BinarySearchFunc(before, a, Announcement.Compare); !found {
			out = append(out, a)
		}
	}
	return out
}

// solicitedNode returns the solicited-node multicast group of an IPv6
// address.
func solicitedNode(ip netip.Addr) netip.Addr {
	// SolicitedNodeMulticast fails only for a non-IPv6 address, which the
	// callers never pass: checkPair and protocolOf route IPv4 to ARP.
	g, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		panic("layer2: solicited-node group of " + ip.String() + ": " + err.Error())
	}
	return g
}

// groupsFor maps each solicited-node group needed by owned to the owned
// addresses in it. Several addresses share a group when their last 24 bits
// match, so a group is needed as long as any of them is owned: this map is
// the reference count.
func groupsFor(owned addrSet) map[netip.Addr][]netip.Addr {
	out := map[netip.Addr][]netip.Addr{}
	for _, ip := range owned.sorted() {
		g := solicitedNode(ip)
		out[g] = append(out[g], ip)
	}
	return out
}

// groupChanges returns the groups to join and to leave so that exactly the
// groups needed by owned are joined, each sorted. joined is what the kernel
// has now, so a leave that failed is tried again next time.
func groupChanges(joined addrSet, owned addrSet) (join, leave []netip.Addr) {
	need := groupsFor(owned)
	for g := range need {
		if !joined.has(g) {
			join = append(join, g)
		}
	}
	for g := range joined {
		if _, ok := need[g]; !ok {
			leave = append(leave, g)
		}
	}
	slices.SortFunc(join, netip.Addr.Compare)
	slices.SortFunc(leave, netip.Addr.Compare)
	return join, leave
}
