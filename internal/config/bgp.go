package config

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
)

// BGPPeer is one BGP session that the nodes it selects open to a router.
type BGPPeer struct {
	Name          string
	MyASN         uint32
	PeerASN       uint32 // 0 when DynamicASN is set
	DynamicASN    string // "", "internal" or "external"
	PeerAddress   netip.Addr
	PeerPort      uint16
	SourceAddress netip.Addr
	RouterID      netip.Addr // zero: the node's IPv4 address
	HoldTime      time.Duration
	KeepaliveTime time.Duration
	ConnectTime   time.Duration
	NodeSelectors []ipam.Selector
	// Password is the TCP MD5 password given inline; PasswordSecret names
	// a Secret holding it instead, which the shell reads.
	Password        string
	PasswordSecret  *SecretRef
	EBGPMultiHop    bool
	GracefulRestart bool
	// Families the session carries, resolved from addressFamilies,
	// disableMP and dualStackAddressFamily (see families); sorted.
	Families []Family
	// MaxPrefixes is the most prefixes the session advertises; 0: no limit.
	MaxPrefixes int
}

// Family is an address family a session carries.
type Family string

// The address families, by their API names.
const (
	IPv4 Family = Family(v1beta1.AddressFamilyIPv4)
	IPv6 Family = Family(v1beta1.AddressFamilyIPv6)
)

// FamilyOf returns the family of an address.
func FamilyOf(a netip.Addr) Family {
	if a.Unmap().Is4() {
		return IPv4
	}
	return IPv6
}

// Carries reports whether the session carries routes of ip's family.
func (p BGPPeer) Carries(ip netip.Addr) bool { return slices.Contains(p.Families, FamilyOf(ip)) }

// families resolves a peer's families. addressFamilies, when set, says
// them; disableMP or dualStackAddressFamily: false keep the session to
// the family of its peer's address, as in MetalLB; otherwise, Herald's
// default, the session carries both: offering a family costs nothing
// when the router does not enable it, and Herald has always done so.
func families(s v1beta1.BGPPeerSpec, peer netip.Addr) []Family {
	var out []Family
	switch {
	case len(s.AddressFamilies) > 0:
		for _, f := range s.AddressFamilies {
			out = append(out, Family(f))
		}
	case s.DisableMP, s.DualStackAddressFamily != nil && !*s.DualStackAddressFamily:
		out = []Family{FamilyOf(peer)}
	default:
		out = []Family{IPv4, IPv6}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SecretRef names a Secret.
type SecretRef struct{ Namespace, Name string }

// SelectsNode reports whether a node with these labels opens this session.
func (p BGPPeer) SelectsNode(labels map[string]string) bool {
	return matchesAny(p.NodeSelectors, labels)
}

// LargeCommunity is a BGP large community, RFC 8092.
type LargeCommunity struct{ Global, Local1, Local2 uint32 }

// BGPAdvertisement says how pools' addresses are advertised over BGP.
type BGPAdvertisement struct {
	Name     string
	Pools    map[string]bool
	AllPools bool
	// AggregationLength and AggregationLengthV6 are the prefix lengths of
	// the routes, per family.
	AggregationLength, AggregationLengthV6 int
	// LocalPref is sent to iBGP peers only.
	LocalPref        *uint32
	Communities      []uint32
	LargeCommunities []LargeCommunity
	NodeSelectors    []ipam.Selector
	// ServiceSelectors limit the Services it advertises; none means all.
	ServiceSelectors []ipam.Selector
	// Peers names the BGPPeers to advertise to; none means all of them.
	Peers []string
}

// SelectsService reports whether the advertisement advertises a Service
// with these labels.
func (a BGPAdvertisement) SelectsService(labels map[string]string) bool {
	return matchesAny(a.ServiceSelectors, labels)
}

// Selects reports whether the advertisement covers the named pool.
func (a BGPAdvertisement) Selects(pool string) bool { return a.AllPools || a.Pools[pool] }

// SelectsNode reports whether a node with these labels advertises.
func (a BGPAdvertisement) SelectsNode(labels map[string]string) bool {
	return matchesAny(a.NodeSelectors, labels)
}

// ToPeer reports whether the advertisement goes to the named peer.
func (a BGPAdvertisement) ToPeer(peer string) bool {
	return len(a.Peers) == 0 || slices.Contains(a.Peers, peer)
}

// Aggregate returns the route that carries ip under this advertisement.
func (a BGPAdvertisement) Aggregate(ip netip.Addr) netip.Prefix {
	bits := a.AggregationLength
	if ip.Is6() {
		bits = a.AggregationLengthV6
	}
	p, _ := ip.Prefix(bits)
	return p
}

// bgp adds the BGP objects to out: Community aliases first, since
// advertisements refer to them; then peers and advertisements. An object
// that cannot be used is left out and reported in out.Problems.
func (out *Announce) bgp(peers []v1beta1.BGPPeer, advs []v1beta1.BGPAdvertisement, comms []v1beta1.Community) {
	aliases := communityAliases(comms, out.Problems)
	for i := range peers {
		p, err := bgpPeer(&peers[i])
		if err != nil {
			out.Problems["BGPPeer/"+peers[i].Name] = Problem{Reason: ReasonInvalidPeer, Message: err.Error()}
			continue
		}
		out.Peers = append(out.Peers, p)
	}
	slices.SortFunc(out.Peers, func(a, b BGPPeer) int { return cmp.Compare(a.Name, b.Name) })
	sorted := slices.Clone(advs)
	slices.SortFunc(sorted, func(a, b v1beta1.BGPAdvertisement) int { return cmp.Compare(a.Name, b.Name) })
	for i := range sorted {
		item := &sorted[i]
		a, prob, ok := out.bgpAdvertisement(item, aliases)
		if !ok {
			out.Problems["BGPAdvertisement/"+item.Name] = prob
			continue
		}
		out.BGP = append(out.BGP, a)
	}
}

// Reasons an advertisement or peer is not in force.
const (
	ReasonUnknownCommunity  = "UnknownCommunity"
	ReasonAggregationLength = "InvalidAggregationLength"
	ReasonLocalPrefConflict = "LocalPrefConflict"
	ReasonInvalidPeer       = "InvalidPeer"
	ReasonDuplicateAlias    = "DuplicateAlias"
)

func (out *Announce) bgpAdvertisement(item *v1beta1.BGPAdvertisement, aliases map[string]string) (BGPAdvertisement, Problem, bool) {
	a := BGPAdvertisement{Name: item.Name, AggregationLength: 32, AggregationLengthV6: 128, Peers: slices.Clone(item.Spec.Peers)}
	if l := item.Spec.AggregationLength; l != nil {
		a.AggregationLength = int(*l)
	}
	if l := item.Spec.AggregationLengthV6; l != nil {
		a.AggregationLengthV6 = int(*l)
	}
	if lp := item.Spec.LocalPref; lp != nil {
		v := uint32(*lp)
		a.LocalPref = &v
	}
	var err error
	if a.NodeSelectors, err = selectors("nodeSelectors", item.Spec.NodeSelectors); err != nil {
		return a, Problem{Reason: ReasonInvalidSelector, Message: err.Error()}, false
	}
	if a.ServiceSelectors, err = selectors("serviceSelectors", item.Spec.ServiceSelectors); err != nil {
		return a, Problem{Reason: ReasonInvalidSelector, Message: err.Error()}, false
	}
	if a.Pools, a.AllPools, err = selectPools(item.Spec.IPAddressPools, item.Spec.IPAddressPoolSelectors, out.Pools); err != nil {
		return a, Problem{Reason: ReasonInvalidSelector, Message: err.Error()}, false
	}
	for _, c := range item.Spec.Communities {
		v := string(c)
		if alias, ok := aliases[v]; ok {
			v = alias
		}
		std, large, err := ParseCommunity(v)
		switch {
		case err != nil && v == string(c) && !strings.Contains(v, ":"):
			return a, Problem{Reason: ReasonUnknownCommunity, Message: fmt.Sprintf("community %q is neither a value nor an alias defined in a Community object", c)}, false
		case err != nil:
			return a, Problem{Reason: ReasonUnknownCommunity, Message: fmt.Sprintf("community %q: %v", c, err)}, false
		case large != nil:
			a.LargeCommunities = append(a.LargeCommunities, *large)
		default:
			a.Communities = append(a.Communities, std)
		}
	}
	slices.Sort(a.Communities)
	a.Communities = slices.Compact(a.Communities)
	slices.SortFunc(a.LargeCommunities, func(x, y LargeCommunity) int {
		return cmp.Or(cmp.Compare(x.Global, y.Global), cmp.Compare(x.Local1, y.Local1), cmp.Compare(x.Local2, y.Local2))
	})
	a.LargeCommunities = slices.Compact(a.LargeCommunities)
	for _, p := range out.Pools {
		if !a.Selects(p.Name) {
			continue
		}
		if msg := checkAggregation(a, p); msg != "" {
			return a, Problem{Reason: ReasonAggregationLength, Message: msg}, false
		}
		// Two advertisements that give the same route for the same pool
		// must agree on its local preference: BGP sends one per route.
		for _, other := range out.BGP {
			if other.Selects(p.Name) && other.AggregationLength == a.AggregationLength && other.AggregationLengthV6 == a.AggregationLengthV6 &&
				!sameLocalPref(other.LocalPref, a.LocalPref) && overlaps(a.Peers, other.Peers) {
				return a, Problem{Reason: ReasonLocalPrefConflict, Message: fmt.Sprintf(
					"localPref %s differs from %s in BGPAdvertisement %q, which gives the same routes of pool %q to the same peers", fmtPref(a.LocalPref), fmtPref(other.LocalPref), other.Name, p.Name), Other: other.Name}, false
			}
		}
	}
	return a, Problem{}, true
}

// checkAggregation is MetalLB's rule: a route may not be shorter than the
// pool's own blocks, or it would cover addresses outside the pool. For a
// range, the shortest of the blocks it decomposes into counts.
func checkAggregation(a BGPAdvertisement, p AnnouncedPool) string {
	for _, r := range p.Ranges {
		want := a.AggregationLength
		if r.From().Is6() {
			want = a.AggregationLengthV6
		}
		lowest := 128
		for _, px := range r.Prefixes() {
			lowest = min(lowest, px.Bits())
		}
		if want < lowest {
			return fmt.Sprintf("aggregation length %d is shorter than the /%d blocks of pool %q (%s): the route would cover addresses outside the pool", want, lowest, p.Name, r)
		}
	}
	return ""
}

func sameLocalPref(a, b *uint32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func fmtPref(p *uint32) string {
	if p == nil {
		return "(unset)"
	}
	return strconv.FormatUint(uint64(*p), 10)
}

// overlaps reports whether two peer lists reach a peer in common; an empty
// list reaches every peer.
func overlaps(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// communityAliases collects the aliases of every Community object, oldest
// name first; an alias defined again with another value by a later object is
// reported on that object and ignored.
func communityAliases(comms []v1beta1.Community, problems map[string]Problem) map[string]string {
	sorted := slices.Clone(comms)
	slices.SortFunc(sorted, func(a, b v1beta1.Community) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	out := map[string]string{}
	from := map[string]string{}
	for _, c := range sorted {
		for _, al := range c.Spec.Communities {
			if v, ok := out[al.Name]; ok && v != string(al.Value) {
				problems["Community/"+c.Name] = Problem{Reason: ReasonDuplicateAlias, Other: from[al.Name],
					Message: fmt.Sprintf("alias %q is already defined as %s by Community %q, which is older", al.Name, v, from[al.Name])}
				continue
			}
			out[al.Name], from[al.Name] = string(al.Value), c.Name
		}
	}
	return out
}

// ParseCommunity parses a standard community "65000:100" or a large one
// "large:64500:1:2".
func ParseCommunity(s string) (uint32, *LargeCommunity, error) {
	if rest, ok := strings.CutPrefix(s, "large:"); ok {
		f := strings.Split(rest, ":")
		if len(f) != 3 {
			return 0, nil, fmt.Errorf("large community %q: want large:<global>:<local1>:<local2>", s)
		}
		var v [3]uint32
		for i, x := range f {
			n, err := strconv.ParseUint(x, 10, 32)
			if err != nil {
				return 0, nil, fmt.Errorf("large community %q: %q is not a number from 0 to 4294967295", s, x)
			}
			v[i] = uint32(n)
		}
		return 0, &LargeCommunity{v[0], v[1], v[2]}, nil
	}
	hi, lo, ok := strings.Cut(s, ":")
	if !ok {
		return 0, nil, fmt.Errorf("community %q: want <asn>:<value>", s)
	}
	h, err1 := strconv.ParseUint(hi, 10, 16)
	l, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, nil, fmt.Errorf("community %q: both halves must be numbers from 0 to 65535", s)
	}
	return uint32(h)<<16 | uint32(l), nil, nil
}

func bgpPeer(item *v1beta1.BGPPeer) (BGPPeer, error) {
	s := item.Spec
	p := BGPPeer{
		Name: item.Name, MyASN: uint32(s.MyASN), DynamicASN: s.DynamicASN, PeerPort: uint16(s.PeerPort),
		Password: s.Password, EBGPMultiHop: s.EBGPMultiHop, GracefulRestart: s.EnableGracefulRestart,
	}
	if s.PeerASN != nil {
		p.PeerASN = uint32(*s.PeerASN)
	}
	if p.PeerPort == 0 {
		p.PeerPort = 179
	}
	var err error
	if p.PeerAddress, err = netip.ParseAddr(s.PeerAddress); err != nil {
		return p, fmt.Errorf("peerAddress %q: %w", s.PeerAddress, err)
	}
	for field, v := range map[string]struct {
		in  string
		out *netip.Addr
	}{"sourceAddress": {s.SourceAddress, &p.SourceAddress}, "routerID": {s.RouterID, &p.RouterID}} {
		if v.in == "" {
			continue
		}
		if *v.out, err = netip.ParseAddr(v.in); err != nil {
			return p, fmt.Errorf("%s %q: %w", field, v.in, err)
		}
	}
	for _, d := range []struct {
		in  *metav1.Duration
		out *time.Duration
	}{{s.HoldTime, &p.HoldTime}, {s.KeepaliveTime, &p.KeepaliveTime}, {s.ConnectTime, &p.ConnectTime}} {
		if d.in != nil {
			*d.out = d.in.Duration
		}
	}
	if s.PasswordSecret != nil {
		p.PasswordSecret = &SecretRef{Namespace: s.PasswordSecret.Namespace, Name: s.PasswordSecret.Name}
	}
	if p.NodeSelectors, err = selectors("nodeSelectors", s.NodeSelectors); err != nil {
		return p, err
	}
	p.Families = families(s, p.PeerAddress)
	if s.ToAdvertise != nil && s.ToAdvertise.MaxPrefixes != nil {
		p.MaxPrefixes = int(*s.ToAdvertise.MaxPrefixes)
	}
	return p, nil
}

// FormatCommunity writes a standard community as "asn:value".
func FormatCommunity(c uint32) string {
	return strconv.FormatUint(uint64(c>>16), 10) + ":" + strconv.FormatUint(uint64(c&0xffff), 10)
}

// FormatLarge writes a large community as "large:global:local1:local2".
func FormatLarge(c LargeCommunity) string {
	return fmt.Sprintf("large:%d:%d:%d", c.Global, c.Local1, c.Local2)
}
