package bgp

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// md5MaxKeyLen is the kernel's TCP_MD5SIG_MAXKEYLEN.
const md5MaxKeyLen = 80

// listening says how passive sessions would listen.
type listening struct {
	// port is Options.ListenPort.
	port int
	// mptcp: Go listens with multipath TCP (its default since Go 1.24,
	// unless GODEBUG multipathtcp=0), on which Linux refuses TCP MD5 keys
	// (ENOPROTOOPT) and TTL settings.
	mptcp bool
}

// target is a validated, normalized Desired: what diff compares with what
// is applied.
type target struct {
	sessions map[string]Session
	paths    map[string]map[netip.Prefix]Path
	// untouched names sessions that were asked for but are invalid: they
	// keep whatever they have now, as bad configuration never takes away
	// what was announced.
	untouched map[string]bool
}

// normalize validates d and returns it in canonical form: addresses
// unmapped, durations in whole seconds, families and communities sorted
// and deduplicated, LOCAL_PREF dropped on eBGP. l says how passive
// sessions would listen. Every problem found is in the returned error, which
// wraps ErrInvalidSession or ErrInvalidPath; the target holds everything
// that is valid. The result does not depend on the order of d's slices.
func normalize(d Desired, l listening) (target, error) {
	t := target{
		sessions:  map[string]Session{},
		paths:     map[string]map[netip.Prefix]Path{},
		untouched: map[string]bool{},
	}
	var errs []error
	count := map[string]int{}
	for _, s := range d.Sessions {
		count[s.Name]++
	}
	for _, s := range d.Sessions {
		if count[s.Name] > 1 {
			if !t.untouched[s.Name] {
				errs = append(errs, fmt.Errorf("%w %q: the name is used %d times", ErrInvalidSession, s.Name, count[s.Name]))
			}
			t.untouched[s.Name] = true
			continue
		}
		ns, err := normalizeSession(s, l)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %q: %w", ErrInvalidSession, s.Name, err))
			t.untouched[s.Name] = true
			continue
		}
		t.sessions[s.Name] = ns
	}
	// A port has one listener; and a router takes one session from an
	// address, so two would knock each other down as collisions.
	errs = append(errs, clashes(&t, "listen on", func(s Session) (any, bool) {
		return s.SourceAddress, s.Passive
	})...)
	errs = append(errs, clashes(&t, "connect to the same router port from", func(s Session) (any, bool) {
		return [3]any{s.PeerAddress, peerEndpoint(s).Port(), s.SourceAddress}, true
	})...)
	for name, paths := range d.Paths {
		s, ok := t.sessions[name]
		if !ok {
			if !t.untouched[name] && len(paths) > 0 {
				errs = append(errs, fmt.Errorf("%w: %d paths for session %q, which is not in Sessions", ErrInvalidPath, len(paths), name))
			}
			continue
		}
		ps, perrs := normalizePaths(s, paths)
		t.paths[name] = ps
		errs = append(errs, perrs...)
	}
	for name := range t.sessions {
		if t.paths[name] == nil {
			t.paths[name] = map[netip.Prefix]Path{}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return cmp.Compare(a.Error(), b.Error()) })
	return t, errors.Join(errs...)
}

// clashes marks invalid, and leaves untouched, the sessions that share a
// key; key's second result says whether a session has one.
func clashes(t *target, what string, key func(Session) (any, bool)) []error {
	byKey := map[any][]string{}
	for name, s := range t.sessions {
		if k, ok := key(s); ok {
			byKey[k] = append(byKey[k], name)
		}
	}
	var errs []error
	for _, names := range byKey {
		if len(names) < 2 {
			continue
		}
		slices.Sort(names)
		for _, n := range names {
			s := t.sessions[n]
			src := "the address the kernel chooses"
			if s.SourceAddress.IsValid() {
				src = s.SourceAddress.String()
			}
			errs = append(errs, fmt.Errorf("%w %q: sessions %q all %s %s", ErrInvalidSession, n, names, what, src))
		}
		for _, n := range names {
			delete(t.sessions, n)
			t.untouched[n] = true
		}
	}
	return errs
}

func normalizeSession(s Session, l listening) (Session, error) {
	if s.Name == "" {
		return s, errors.New("no name")
	}
	if s.MyASN == 0 {
		return s, errors.New("myASN is 0")
	}
	switch s.DynamicASN {
	case "":
		if s.PeerASN == 0 {
			return s, errors.New("neither peerASN nor dynamicASN is set")
		}
	case DynamicASNInternal, DynamicASNExternal:
		if s.PeerASN != 0 {
			return s, errors.New("both peerASN and dynamicASN are set")
		}
	default:
		return s, fmt.Errorf("dynamicASN %q is neither %q nor %q", s.DynamicASN, DynamicASNInternal, DynamicASNExternal)
	}
	s.PeerAddress = s.PeerAddress.Unmap()
	if !s.PeerAddress.IsValid() || s.PeerAddress.IsUnspecified() {
		return s, fmt.Errorf("peer address %q is not an address", s.PeerAddress)
	}
	if s.PeerAddress.Zone() != "" {
		return s, fmt.Errorf("peer address %s has a zone, which is not supported", s.PeerAddress)
	}
	s.SourceAddress = s.SourceAddress.Unmap()
	if s.SourceAddress.IsValid() && s.SourceAddress.Is4() != s.PeerAddress.Is4() {
		return s, fmt.Errorf("source address %s and peer address %s are of different families", s.SourceAddress, s.PeerAddress)
	}
	s.RouterID = s.RouterID.Unmap()
	if !s.RouterID.Is4() || s.RouterID.IsUnspecified() {
		return s, fmt.Errorf("router ID %q is not an IPv4 address", s.RouterID)
	}
	var err error
	if s.HoldTime, err = seconds("hold time", s.HoldTime); err != nil {
		return s, err
	}
	if s.HoldTime != 0 && s.HoldTime < 3*time.Second {
		return s, fmt.Errorf("hold time %s is below 3s (RFC 4271)", s.HoldTime)
	}
	if s.KeepaliveTime, err = seconds("keepalive time", s.KeepaliveTime); err != nil {
		return s, err
	}
	if hold := cmp.Or(s.HoldTime, defaultHoldTime); s.KeepaliveTime > hold {
		return s, fmt.Errorf("keepalive time %s is above the hold time %s", s.KeepaliveTime, hold)
	}
	if s.ConnectTime, err = seconds("connect time", s.ConnectTime); err != nil {
		return s, err
	}
	if len(s.Password) > md5MaxKeyLen {
		return s, fmt.Errorf("TCP MD5 password is %d bytes long; the kernel takes %d at most", len(s.Password), md5MaxKeyLen)
	}
	if s.Passive {
		if l.port <= 0 {
			return s, errors.New("passive, but the speaker does not listen (Options.ListenPort)")
		}
		if !s.SourceAddress.IsValid() {
			return s, errors.New("passive without a source address to listen on")
		}
		if l.mptcp && s.Password != "" {
			return s, errors.New("passive with a TCP MD5 password, but Go listens with MPTCP, whose sockets take no MD5 key: build with GODEBUG multipathtcp=0")
		}
	}
	if len(s.Families) == 0 {
		return s, errors.New("no address family")
	}
	fams := slices.Clone(s.Families)
	slices.Sort(fams)
	s.Families = slices.Compact(fams)
	for _, f := range s.Families {
		if f != IPv4Unicast && f != IPv6Unicast {
			return s, fmt.Errorf("unknown address family %d", int(f))
		}
	}
	s.NextHop4 = s.NextHop4.Unmap()
	if s.NextHop4.IsValid() && (!s.NextHop4.Is4() || s.NextHop4.IsUnspecified()) {
		return s, fmt.Errorf("IPv4 next hop %s is not a usable IPv4 address", s.NextHop4)
	}
	if s.NextHop6.IsValid() && (!s.NextHop6.Is6() || s.NextHop6.Is4In6() || s.NextHop6.IsUnspecified()) {
		return s, fmt.Errorf("IPv6 next hop %s is not a usable IPv6 address", s.NextHop6)
	}
	return s, nil
}

// seconds truncates d to whole seconds, the unit BGP timers have.
func seconds(what string, d time.Duration) (time.Duration, error) {
	if d < 0 {
		return 0, fmt.Errorf("%s %s is negative", what, d)
	}
	t := d.Truncate(time.Second)
	if d != 0 && t == 0 {
		return 0, fmt.Errorf("%s %s is under a second", what, d)
	}
	return t, nil
}

// normalizePaths validates the paths of the valid session s. Of two paths
// with the same prefix and different attributes, the one first in
// canonical order is kept, so that the outcome does not depend on the
// order of paths.
func normalizePaths(s Session, paths []Path) (map[netip.Prefix]Path, []error) {
	out := make(map[netip.Prefix]Path, len(paths))
	clash := map[netip.Prefix]bool{}
	var errs []error
	for _, p := range paths {
		np, err := normalizePath(s, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %s for session %q: %w", ErrInvalidPath, p.Prefix, s.Name, err))
			continue
		}
		old, dup := out[np.Prefix]
		switch {
		case !dup:
			out[np.Prefix] = np
		case samePath(old, np):
		default:
			clash[np.Prefix] = true
			if comparePaths(np, old) < 0 {
				out[np.Prefix] = np
			}
		}
	}
	for pfx := range clash {
		errs = append(errs, fmt.Errorf("%w %s for session %q: listed twice with different attributes; advertising %s", ErrInvalidPath, pfx, s.Name, describePath(out[pfx])))
	}
	return out, errs
}

func normalizePath(s Session, p Path) (Path, error) {
	if !p.Prefix.IsValid() {
		return p, errors.New("not a prefix")
	}
	if p.Prefix.Addr().Is4In6() {
		return p, errors.New("an IPv4-mapped IPv6 prefix; give the IPv4 prefix")
	}
	if p.Prefix.Addr().Zone() != "" {
		return p, errors.New("a prefix with a zone")
	}
	p.Prefix = p.Prefix.Masked()
	fam := familyOf(p.Prefix.Addr())
	if !slices.Contains(s.Families, fam) {
		return p, fmt.Errorf("the session does not carry %s", fam)
	}
	if fam != familyOf(s.PeerAddress) {
		if fam == IPv4Unicast && !s.NextHop4.IsValid() {
			return p, errors.New("an IPv4 prefix over an IPv6 session needs NextHop4")
		}
		if fam == IPv6Unicast && !s.NextHop6.IsValid() {
			return p, errors.New("an IPv6 prefix over an IPv4 session needs NextHop6")
		}
	}
	c := slices.Clone(p.Communities)
	slices.Sort(c)
	p.Communities = slices.Compact(c)
	lc := slices.Clone(p.LargeCommunities)
	slices.SortFunc(lc, compareLarge)
	p.LargeCommunities = slices.Compact(lc)
	if p.LocalPref != nil {
		v := *p.LocalPref
		p.LocalPref = &v
	}
	if !s.ibgp() {
		p.LocalPref = nil
	}
	return p, nil
}

func compareLarge(a, b LargeCommunity) int {
	return cmp.Or(cmp.Compare(a.Global, b.Global), cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
}

// samePath compares normalized paths.
func samePath(a, b Path) bool { return comparePaths(a, b) == 0 }

// comparePaths orders normalized paths: by prefix, then attributes.
func comparePaths(a, b Path) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := slices.Compare(a.Communities, b.Communities); c != 0 {
		return c
	}
	if c := slices.CompareFunc(a.LargeCommunities, b.LargeCommunities, compareLarge); c != 0 {
		return c
	}
	switch {
	case a.LocalPref == nil && b.LocalPref == nil:
		return 0
	case a.LocalPref == nil:
		return -1
	case b.LocalPref == nil:
		return 1
	}
	return cmp.Compare(*a.LocalPref, *b.LocalPref)
}

func describePath(p Path) string {
	s := p.Prefix.String()
	if len(p.Communities) > 0 {
		s += fmt.Sprintf(" communities %v", p.Communities)
	}
	if len(p.LargeCommunities) > 0 {
		s += fmt.Sprintf(" large communities %v", p.LargeCommunities)
	}
	if p.LocalPref != nil {
		s += fmt.Sprintf(" local-pref %d", *p.LocalPref)
	}
	return s
}

// sameSession compares normalized sessions.
func sameSession(a, b Session) bool {
	return a.Name == b.Name && a.MyASN == b.MyASN && a.PeerASN == b.PeerASN &&
		a.DynamicASN == b.DynamicASN && a.PeerAddress == b.PeerAddress &&
		a.PeerPort == b.PeerPort && a.SourceAddress == b.SourceAddress &&
		a.RouterID == b.RouterID && a.HoldTime == b.HoldTime &&
		a.KeepaliveTime == b.KeepaliveTime && a.ConnectTime == b.ConnectTime &&
		a.EBGPMultiHop == b.EBGPMultiHop && a.Password == b.Password &&
		a.GracefulRestart == b.GracefulRestart && a.Passive == b.Passive &&
		slices.Equal(a.Families, b.Families) &&
		a.NextHop4 == b.NextHop4 && a.NextHop6 == b.NextHop6
}
