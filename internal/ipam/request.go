package ipam

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Family is an IP address family.
type Family int

// Address families. An IPv4-mapped IPv6 address is IPv6.
const (
	IPv4 Family = iota + 1
	IPv6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

func (f Family) index() int { return int(f) - 1 }

func (f Family) other() Family {
	if f == IPv6 {
		return IPv4
	}
	return IPv6
}

// FamilyOf returns the family of a.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// FamilyPolicy is a Service's spec.ipFamilyPolicy. The zero value is
// SingleStack.
type FamilyPolicy int

// Family policies, as in Kubernetes.
const (
	SingleStack FamilyPolicy = iota
	PreferDualStack
	RequireDualStack
)

func (p FamilyPolicy) String() string {
	switch p {
	case SingleStack:
		return "SingleStack"
	case PreferDualStack:
		return "PreferDualStack"
	case RequireDualStack:
		return "RequireDualStack"
	}
	return fmt.Sprintf("FamilyPolicy(%d)", int(p))
}

// Port is one port a Service exposes, for the sharing rules.
type Port struct {
	Protocol string // "TCP", "UDP", "SCTP"; compared case-insensitively
	Port     int32
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", strings.ToLower(p.Protocol), p.Port) }

// Request is what one Service asks of the allocator.
type Request struct {
	Key             string // "namespace/name"
	Namespace       string
	NamespaceLabels map[string]string
	ServiceLabels   map[string]string

	// Pool is the heraldlb.io/address-pool annotation, "" if none.
	Pool string
	// RequestedIPs come from spec.loadBalancerIP or the
	// heraldlb.io/loadBalancerIPs annotation: at most one per family.
	RequestedIPs []netip.Addr

	// Families is spec.ipFamilies, in order; empty means IPv4.
	Families []Family
	Policy   FamilyPolicy

	// SharingKey is the heraldlb.io/allow-shared-ip annotation, "" if the
	// Service does not share.
	SharingKey string
	Ports      []Port
	// Local is externalTrafficPolicy: Local. Services sharing an IP with a
	// Local one must have the same Backend.
	Local   bool
	Backend string
}

// Assignment is the pool and IPs held by one Service. IPs are in the order of
// the request's families (primary first).
type Assignment struct {
	Pool string
	IPs  []netip.Addr
}

// want is a validated request's family plan.
type want struct {
	primary, secondary Family
	policy             FamilyPolicy
}

// fams returns the families the request needs, preferred first.
func (w want) fams() []Family {
	if w.policy == SingleStack {
		return []Family{w.primary}
	}
	return []Family{w.primary, w.secondary}
}

func (r Request) validate() (want, error) {
	if r.Key == "" {
		return want{}, errorf(ErrInvalidRequest, "request has no key")
	}
	for _, f := range r.Families {
		if f != IPv4 && f != IPv6 {
			return want{}, errorf(ErrInvalidRequest, "service %s has unknown IP family %v", r.Key, f)
		}
	}
	if r.Policy < SingleStack || r.Policy > RequireDualStack {
		return want{}, errorf(ErrInvalidRequest, "service %s has unknown IP family policy %v", r.Key, r.Policy)
	}
	w := want{primary: IPv4, policy: r.Policy}
	if len(r.Families) > 0 {
		w.primary = r.Families[0]
	}
	if w.policy == PreferDualStack && len(r.Families) == 1 {
		// The cluster gave the Service one family: nothing to prefer.
		w.policy = SingleStack
	}
	w.secondary = w.primary.other()
	if err := checkIPs(r.Key, r.RequestedIPs); err != nil {
		return want{}, err
	}
	if n := len(r.RequestedIPs); n > 0 {
		for _, ip := range r.RequestedIPs {
			if len(r.Families) > 0 && !slices.Contains(r.Families, FamilyOf(ip)) {
				return want{}, errorf(ErrInvalidRequest, "requested IP %s does not match the IP families %v of service %s", ip, r.Families, r.Key)
			}
		}
		switch {
		case r.Policy == SingleStack && n > 1:
			return want{}, errorf(ErrInvalidRequest, "single-stack service %s requests %d IPs", r.Key, n)
		case r.Policy == RequireDualStack && n < 2:
			return want{}, errorf(ErrDualStackImpossible, "dual-stack service %s requests only IP %s", r.Key, r.RequestedIPs[0])
		}
	}
	return w, nil
}

// checkIPs rejects invalid addresses, zones and two IPs of one family.
func checkIPs(key string, ips []netip.Addr) error {
	var seen [2]bool
	for _, ip := range ips {
		if !ip.IsValid() || ip.Zone() != "" {
			return errorf(ErrInvalidRequest, "service %s: invalid IP %q", key, ip.String())
		}
		f := FamilyOf(ip)
		if seen[f.index()] {
			return errorf(ErrInvalidRequest, "service %s: more than one %v address in %v", key, f, ips)
		}
		seen[f.index()] = true
	}
	return nil
}
