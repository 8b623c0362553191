package bgp

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validSession is a session that normalize accepts as it is. Sessions
// a, b and c go to routers of their own; the others to 203.0.113.1.
func validSession(name string, opts ...func(*Session)) Session {
	peer := map[string]string{"a": "203.0.113.11", "b": "203.0.113.12", "c": "203.0.113.13"}[name]
	s := Session{
		Name:        name,
		MyASN:       nodeASN,
		PeerASN:     routerASN,
		PeerAddress: netip.MustParseAddr(cmp.Or(peer, "203.0.113.1")),
		RouterID:    netip.MustParseAddr("198.51.100.1"),
		Families:    []Family{IPv4Unicast, IPv6Unicast},
		NextHop6:    netip.MustParseAddr("2001:db8::1"),
	}
	for _, f := range opts {
		f(&s)
	}
	return s
}

func TestNormalizeRejectsSessions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Session)
		listen listening
		want   string
	}{
		{"no name", func(s *Session) { s.Name = "" }, listening{}, "no name"},
		{"no myASN", func(s *Session) { s.MyASN = 0 }, listening{}, "myASN is 0"},
		{"no peer ASN", func(s *Session) { s.PeerASN = 0 }, listening{}, "neither peerASN nor dynamicASN"},
		{"both ASNs", func(s *Session) { s.DynamicASN = DynamicASNExternal }, listening{}, "both peerASN and dynamicASN"},
		{"bad dynamic ASN", func(s *Session) { s.PeerASN, s.DynamicASN = 0, "any" }, listening{}, `dynamicASN "any"`},
		{"no peer address", func(s *Session) { s.PeerAddress = netip.Addr{} }, listening{}, "not an address"},
		{"unspecified peer", func(s *Session) { s.PeerAddress = netip.IPv4Unspecified() }, listening{}, "not an address"},
		{"zoned peer", func(s *Session) { s.PeerAddress = netip.MustParseAddr("fe80::1%eth0") }, listening{}, "zone"},
		{"source of the other family", func(s *Session) { s.SourceAddress = netip.MustParseAddr("2001:db8::2") }, listening{}, "different families"},
		{"IPv6 router ID", func(s *Session) { s.RouterID = netip.MustParseAddr("2001:db8::1") }, listening{}, "router ID"},
		{"no router ID", func(s *Session) { s.RouterID = netip.Addr{} }, listening{}, "router ID"},
		{"negative hold", func(s *Session) { s.HoldTime = -time.Second }, listening{}, "negative"},
		{"hold under 3s", func(s *Session) { s.HoldTime = 2 * time.Second }, listening{}, "below 3s"},
		{"hold under a second", func(s *Session) { s.HoldTime = time.Millisecond }, listening{}, "under a second"},
		{"keepalive above hold", func(s *Session) { s.HoldTime, s.KeepaliveTime = 9*time.Second, 10*time.Second }, listening{}, "above the hold time"},
		{"keepalive above default hold", func(s *Session) { s.KeepaliveTime = 91 * time.Second }, listening{}, "above the hold time 1m30s"},
		{"connect under a second", func(s *Session) { s.ConnectTime = time.Millisecond }, listening{}, "under a second"},
		{"password too long", func(s *Session) { s.Password = strings.Repeat("x", 81) }, listening{}, "81 bytes"},
		{"passive without listener", func(s *Session) { s.Passive = true; s.SourceAddress = netip.MustParseAddr("203.0.113.2") }, listening{}, "ListenPort"},
		{"passive without source", func(s *Session) { s.Passive = true }, listening{port: 1790}, "without a source address"},
		{"passive with MD5 on MPTCP", func(s *Session) {
			s.Passive, s.Password = true, "s3cret"
			s.SourceAddress = netip.MustParseAddr("203.0.113.2")
		}, listening{port: 1790, mptcp: true}, "multipathtcp=0"},
		{"no family", func(s *Session) { s.Families = nil }, listening{}, "no address family"},
		{"unknown family", func(s *Session) { s.Families = []Family{0} }, listening{}, "unknown address family"},
		{"IPv6 next hop 4", func(s *Session) { s.NextHop4 = netip.MustParseAddr("2001:db8::1") }, listening{}, "IPv4 next hop"},
		{"IPv4 next hop 6", func(s *Session) { s.NextHop6 = netip.MustParseAddr("198.51.100.1") }, listening{}, "IPv6 next hop"},
		{"mapped next hop 6", func(s *Session) { s.NextHop6 = netip.MustParseAddr("::ffff:198.51.100.1") }, listening{}, "IPv6 next hop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSession("tor", tc.mutate)
			got, err := normalize(Desired{Sessions: []Session{s}, Paths: map[string][]Path{s.Name: {path("198.51.100.10/32")}}}, tc.listen)
			if !errors.Is(err, ErrInvalidSession) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidSession saying %q", err, tc.want)
			}
			if len(got.sessions) != 0 || !got.untouched[s.Name] || len(got.paths) != 0 {
				t.Errorf("an invalid session must be left untouched, paths and all: %+v", got)
			}
		})
	}
}

func TestNormalizeCanonicalSession(t *testing.T) {
	s := validSession("tor", func(s *Session) {
		s.PeerAddress = netip.MustParseAddr("::ffff:203.0.113.1")
		s.RouterID = netip.MustParseAddr("::ffff:198.51.100.1")
		s.HoldTime, s.KeepaliveTime, s.ConnectTime = 9500*time.Millisecond, 3*time.Second+time.Nanosecond, 2*time.Second
		s.Families = []Family{IPv6Unicast, IPv4Unicast, IPv6Unicast}
	})
	got, err := normalize(Desired{Sessions: []Session{s}}, listening{port: 0})
	if err != nil {
		t.Fatal(err)
	}
	want := validSession("tor", func(s *Session) {
		s.HoldTime, s.KeepaliveTime, s.ConnectTime = 9*time.Second, 3*time.Second, 2*time.Second
	})
	if !sameSession(got.sessions["tor"], want) {
		t.Errorf("got %+v\nwant %+v", got.sessions["tor"], want)
	}
	if got.paths["tor"] == nil || len(got.paths["tor"]) != 0 {
		t.Errorf("a session without paths gets an empty set, got %v", got.paths["tor"])
	}
}

// TestSameSessionComparesEveryField makes sure a new Session field cannot
// be forgotten by sameSession, which decides when a session is re-created.
func TestSameSessionComparesEveryField(t *testing.T) {
	base := validSession("tor")
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		other := validSession("tor")
		f := reflect.ValueOf(&other).Elem().Field(i)
		switch v := f.Addr().Interface().(type) {
		case *string:
			*v += "x"
		case *uint32:
			*v++
		case *uint16:
			*v++
		case *bool:
			*v = !*v
		case *time.Duration:
			*v += time.Second
		case *netip.Addr:
			*v = netip.MustParseAddr("198.51.100.99")
		case *[]Family:
			*v = []Family{IPv4Unicast}
		default:
			t.Fatalf("field %s of type %s: teach this test to change it", typ.Field(i).Name, f.Type())
		}
		if sameSession(base, other) {
			t.Errorf("sameSession ignores %s", typ.Field(i).Name)
		}
	}
	if !sameSession(base, validSession("tor")) {
		t.Error("sameSession says equal sessions differ")
	}
}

func TestNormalizePaths(t *testing.T) {
	ebgp := validSession("ebgp")
	ibgp := validSession("ibgp", withASNs(nodeASN, nodeASN))
	dynInternal := validSession("dyn-int", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNInternal })
	dynExternal := validSession("dyn-ext", func(s *Session) { s.PeerASN, s.DynamicASN = 0, DynamicASNExternal })
	v6 := validSession("v6", func(s *Session) {
		s.PeerAddress = netip.MustParseAddr("2001:db8::ff")
		s.NextHop6 = netip.Addr{}
	})
	v4only := validSession("v4only", withFamilies(IPv4Unicast))
	noNH6 := validSession("no-nh6", func(s *Session) { s.NextHop6 = netip.Addr{} })
	tests := []struct {
		name    string
		session Session
		paths   []Path
		want    string // the kept paths, in canonical order
		wantErr string
	}{{
		name: "attributes sorted and deduplicated, prefix masked", session: ebgp,
		paths: []Path{path("198.51.100.17/28", comms(3, 1, 3), large(LargeCommunity{2, 0, 0}, LargeCommunity{1, 9, 9}, LargeCommunity{1, 9, 9}))},
		want:  "198.51.100.16/28 communities [1 3] large communities [{1 9 9} {2 0 0}]",
	}, {
		name: "LOCAL_PREF dropped on eBGP", session: ebgp,
		paths: []Path{path("198.51.100.1/32", localPref(200))},
		want:  "198.51.100.1/32",
	}, {
		name: "LOCAL_PREF dropped with dynamicASN external", session: dynExternal,
		paths: []Path{path("198.51.100.1/32", localPref(200))},
		want:  "198.51.100.1/32",
	}, {
		name: "LOCAL_PREF kept on iBGP", session: ibgp,
		paths: []Path{path("198.51.100.1/32", localPref(200))},
		want:  "198.51.100.1/32 local-pref 200",
	}, {
		name: "LOCAL_PREF kept with dynamicASN internal", session: dynInternal,
		paths: []Path{path("198.51.100.1/32", localPref(200))},
		want:  "198.51.100.1/32 local-pref 200",
	}, {
		name: "a family the session does not carry", session: v4only,
		paths:   []Path{path("2001:db8:1::1/128"), path("198.51.100.1/32")},
		want:    "198.51.100.1/32",
		wantErr: "does not carry ipv6-unicast",
	}, {
		name: "IPv6 over IPv4 needs NextHop6", session: noNH6,
		paths:   []Path{path("2001:db8:1::1/128")},
		wantErr: "needs NextHop6",
	}, {
		name: "IPv4 over IPv6 needs NextHop4", session: v6,
		paths:   []Path{path("198.51.100.1/32"), path("2001:db8:1::1/128")},
		want:    "2001:db8:1::1/128",
		wantErr: "needs NextHop4",
	}, {
		name: "mapped prefix", session: ebgp,
		paths:   []Path{{Prefix: netip.MustParsePrefix("::ffff:198.51.100.1/128")}},
		wantErr: "IPv4-mapped",
	}, {
		name: "no prefix", session: ebgp,
		paths:   []Path{{}},
		wantErr: "not a prefix",
	}, {
		name: "the same path twice", session: ebgp,
		paths: []Path{path("198.51.100.1/32", comms(1)), path("198.51.100.1/32", comms(1, 1))},
		want:  "198.51.100.1/32 communities [1]",
	}, {
		name: "a prefix twice with different attributes: the first in canonical order wins", session: ebgp,
		paths:   []Path{path("198.51.100.1/32", comms(2)), path("198.51.100.1/32", comms(1))},
		want:    "198.51.100.1/32 communities [1]",
		wantErr: "listed twice",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Desired{Sessions: []Session{tc.session}, Paths: map[string][]Path{tc.session.Name: tc.paths}}
			got, err := normalize(d, listening{port: 0})
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (!errors.Is(err, ErrInvalidPath) || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want ErrInvalidPath saying %q", err, tc.wantErr)
			}
			var descs []string
			for _, p := range sortedPaths(got.paths[tc.session.Name]) {
				descs = append(descs, describePath(p))
			}
			if s := strings.Join(descs, "; "); s != tc.want {
				t.Errorf("kept %q, want %q", s, tc.want)
			}
		})
	}
}

func TestNormalizeSessionSets(t *testing.T) {
	src := func(a string) func(*Session) {
		return func(s *Session) { s.SourceAddress = netip.MustParseAddr(a); s.Passive = true }
	}
	d := Desired{
		Sessions: []Session{
			validSession("dup"), validSession("dup"),
			validSession("p1", src("203.0.113.2")), validSession("p2", src("203.0.113.2")),
			validSession("p3", src("203.0.113.3")),
			validSession("ok"),
		},
		Paths: map[string][]Path{"ghost": {path("198.51.100.1/32")}, "dup": {path("198.51.100.1/32")}},
	}
	d.Sessions = append(d.Sessions,
		validSession("same1"), validSession("same2"), validSession("same3", func(s *Session) { s.PeerPort = 1790 }))
	for i := range d.Sessions {
		if n := d.Sessions[i].Name; n != "same1" && n != "same2" && n != "same3" {
			// Each other session to a router of its own.
			d.Sessions[i].PeerAddress = netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + i)})
		}
	}
	got, err := normalize(d, listening{port: 1790})
	for _, want := range []string{
		`"dup": the name is used 2 times`,
		`"p1": sessions ["p1" "p2"] all listen on 203.0.113.2`, `"p2": sessions ["p1" "p2"] all listen`,
		`"same1": sessions ["same1" "same2"] all connect to the same router port from the address the kernel chooses`,
		`session "ghost", which is not in Sessions`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if fmt.Sprint(sortedNames(got.sessions)) != "[ok p3 same3]" {
		t.Errorf("valid sessions %v, want [ok p3 same3]", sortedNames(got.sessions))
	}
	if fmt.Sprint(sortedNames(got.untouched)) != "[dup p1 p2 same1 same2]" {
		t.Errorf("untouched sessions %v, want [dup p1 p2 same1 same2]", sortedNames(got.untouched))
	}
}

// TestNormalizeIgnoresOrder shuffles every slice of a Desired with pinned
// seeds: the target and the error must not change.
func TestNormalizeIgnoresOrder(t *testing.T) {
	d := Desired{
		Sessions: []Session{
			validSession("a", withFamilies(IPv6Unicast, IPv4Unicast)), validSession("b", withASNs(nodeASN, nodeASN)),
			validSession("dup"), validSession("dup"), validSession("bad", func(s *Session) { s.MyASN = 0 }),
		},
		Paths: map[string][]Path{
			"a": {path("198.51.100.1/32", comms(3, 2, 1)), path("198.51.100.1/32", comms(4)), path("2001:db8::/64"), path("2001:db8::1/128", large(LargeCommunity{3, 2, 1}, LargeCommunity{1, 2, 3}))},
			"b": {path("203.0.113.0/24", localPref(7)), path("203.0.113.0/24", localPref(6)), {}},
		},
	}
	want, wantErr := normalize(d, listening{port: 0})
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		s := Desired{Sessions: shuffled(r, d.Sessions), Paths: map[string][]Path{}}
		for i := range s.Sessions {
			s.Sessions[i].Families = shuffled(r, s.Sessions[i].Families)
		}
		for name, ps := range d.Paths {
			ps = shuffled(r, ps)
			for i := range ps {
				ps[i].Communities = shuffled(r, ps[i].Communities)
				ps[i].LargeCommunities = shuffled(r, ps[i].LargeCommunities)
			}
			s.Paths[name] = ps
		}
		got, err := normalize(s, listening{port: 0})
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("seed %d: error\n%v\nwant\n%v", seed, err, wantErr)
		}
		if describeTarget(got) != describeTarget(want) {
			t.Fatalf("seed %d: target\n%s\nwant\n%s", seed, describeTarget(got), describeTarget(want))
		}
	}
}

func shuffled[T any](r *rand.Rand, s []T) []T {
	out := append([]T(nil), s...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func describeTarget(t target) string {
	var b strings.Builder
	for _, name := range sortedNames(t.sessions) {
		fmt.Fprintf(&b, "%+v\n", t.sessions[name])
		for _, p := range sortedPaths(t.paths[name]) {
			fmt.Fprintf(&b, "  %s\n", describePath(p))
		}
	}
	fmt.Fprintf(&b, "untouched %v\n", sortedNames(t.untouched))
	return b.String()
}
