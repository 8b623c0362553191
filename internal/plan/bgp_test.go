package plan

import (
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

var routed = pool("routed", nil, "203.0.113.64/27", "2001:db8:200::/120")

func peer(name, addr string, opts ...func(*v1beta1.BGPPeer)) v1beta1.BGPPeer {
	p := v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.BGPPeerSpec{
		MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](64512), PeerAddress: addr,
	}}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func onNodesPeer(labels map[string]string) func(*v1beta1.BGPPeer) {
	return func(p *v1beta1.BGPPeer) {
		p.Spec.NodeSelectors = append(p.Spec.NodeSelectors, metav1.LabelSelector{MatchLabels: labels})
	}
}

func bgpAdv(name string, opts ...func(*v1beta1.BGPAdvertisement)) v1beta1.BGPAdvertisement {
	a := v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// bgpWorld is node1 of three, with addresses, peering per objs.
func bgpWorld(objs config.Objects, svcs ...Service) Inputs {
	in := Inputs{Self: "node1", Config: config.Announcements(objs), Claim: true,
		SelfAddrs: []netip.Addr{netip.MustParseAddr("198.51.100.11"), netip.MustParseAddr("2001:db8:1::11")}}
	for _, n := range []string{"node1", "node2", "node3"} {
		in.Nodes = append(in.Nodes, Node{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}})
	}
	in.Services = svcs
	return in
}

// routes renders a session's paths: "prefix [communities] lp" per path.
func routes(p Plan, session string) string {
	var out []string
	for _, x := range p.BGP.Paths[session] {
		s := x.Prefix.String()
		for _, c := range x.Communities {
			s += " " + config.FormatCommunity(c)
		}
		for _, c := range x.LargeCommunities {
			s += " " + config.FormatLarge(c)
		}
		if x.LocalPref != nil {
			s += " lp=" + itoa(*x.LocalPref)
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func TestBGPSessions(t *testing.T) {
	secret := &v1beta1.SecretRef{Name: "pw", Namespace: "herald-system"}
	in := bgpWorld(config.Objects{Peers: []v1beta1.BGPPeer{
		peer("tor", "198.51.100.1"),
		peer("tor6", "2001:db8:1::1", func(p *v1beta1.BGPPeer) { p.Spec.RouterID = "203.0.113.250"; p.Spec.SourceAddress = "2001:db8:1::99" }),
		peer("rack2", "198.51.100.2", onNodesPeer(map[string]string{"kubernetes.io/hostname": "node2"})),
		peer("secured", "198.51.100.3", func(p *v1beta1.BGPPeer) { p.Spec.PasswordSecret = secret }),
		peer("unsecured", "198.51.100.4", func(p *v1beta1.BGPPeer) {
			p.Spec.PasswordSecret = &v1beta1.SecretRef{Name: "gone", Namespace: "herald-system"}
		}),
	}})
	in.Passwords = map[config.SecretRef]string{{Namespace: "herald-system", Name: "pw"}: "s3cret"}
	p := Compute(in)
	var names []string
	for _, s := range p.BGP.Sessions {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"secured", "tor", "tor6"}) {
		t.Fatalf("sessions = %v, want secured, tor, tor6 (rack2 selects node2; unsecured lacks its Secret)", names)
	}
	if why := p.BGP.Problems["unsecured"]; !strings.Contains(why, "Secret herald-system/gone") {
		t.Errorf("problem of unsecured = %q", why)
	}
	in.Unreadable = map[config.SecretRef]bool{{Namespace: "herald-system", Name: "gone"}: true}
	if why := Compute(in).BGP.Problems["unsecured"]; !strings.Contains(why, "may not read Secret herald-system/gone yet") {
		t.Errorf("problem of unsecured while its Secret is unreadable = %q", why)
	}
	in.Unreadable = nil
	byName := map[string]Session{}
	for _, s := range p.BGP.Sessions {
		byName[s.Name] = s
	}
	if s := byName["tor"]; s.RouterID.String() != "198.51.100.11" || s.NextHop4.String() != "198.51.100.11" ||
		s.NextHop6.String() != "2001:db8:1::11" || !slices.Equal(s.Families, []Family{IPv4Unicast, IPv6Unicast}) || s.PeerPort != 179 {
		t.Errorf("tor = %+v", s)
	}
	if s := byName["tor6"]; s.RouterID.String() != "203.0.113.250" || s.NextHop6.String() != "2001:db8:1::99" || s.NextHop4.String() != "198.51.100.11" {
		t.Errorf("tor6 = %+v", s)
	}
	if byName["secured"].Password != "s3cret" {
		t.Errorf("secured password = %q", byName["secured"].Password)
	}
	in.SelfAddrs = []netip.Addr{netip.MustParseAddr("2001:db8:1::11")}
	if p := Compute(in); !strings.Contains(p.BGP.Problems["tor"], "router ID") {
		t.Errorf("a node without IPv4 and no routerID: problems %v", p.BGP.Problems)
	}
}

func TestBGPPaths(t *testing.T) {
	peers := []v1beta1.BGPPeer{peer("tor", "198.51.100.1"), peer("tor6", "2001:db8:1::1")}
	withPeers := func(p ...string) func(*v1beta1.BGPAdvertisement) {
		return func(a *v1beta1.BGPAdvertisement) { a.Spec.Peers = p }
	}
	comm := func(c ...string) func(*v1beta1.BGPAdvertisement) {
		return func(a *v1beta1.BGPAdvertisement) {
			for _, x := range c {
				a.Spec.Communities = append(a.Spec.Communities, v1beta1.CommunityOrAlias(x))
			}
		}
	}
	agg := func(v4, v6 int32) func(*v1beta1.BGPAdvertisement) {
		return func(a *v1beta1.BGPAdvertisement) { a.Spec.AggregationLength, a.Spec.AggregationLengthV6 = &v4, &v6 }
	}
	lp := func(v int64) func(*v1beta1.BGPAdvertisement) {
		return func(a *v1beta1.BGPAdvertisement) { a.Spec.LocalPref = &v }
	}
	nodeSel := func(n string) func(*v1beta1.BGPAdvertisement) {
		return func(a *v1beta1.BGPAdvertisement) {
			a.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"kubernetes.io/hostname": n}}}
		}
	}
	tests := []struct {
		name      string
		advs      []v1beta1.BGPAdvertisement
		svcs      []Service
		tor, tor6 string
		why       string // of the first Service, when nobody announces it
	}{
		{"every IP to every peer", []v1beta1.BGPAdvertisement{bgpAdv("all")},
			[]Service{svc("d/a", "203.0.113.70", "2001:db8:200::7")},
			"203.0.113.70/32, 2001:db8:200::7/128", "203.0.113.70/32, 2001:db8:200::7/128", ""},
		{"peers filter", []v1beta1.BGPAdvertisement{bgpAdv("v4", withPeers("tor"), comm("64512:1")), bgpAdv("v6", withPeers("tor6"), comm("64512:2"))},
			[]Service{svc("d/a", "203.0.113.70")},
			"203.0.113.70/32 64512:1", "203.0.113.70/32 64512:2", ""},
		{"two advertisements of one route merge their communities", []v1beta1.BGPAdvertisement{bgpAdv("a", comm("64512:1", "large:1:2:3"), lp(50)), bgpAdv("b", comm("64512:2"), lp(50))},
			[]Service{svc("d/a", "203.0.113.70")},
			"203.0.113.70/32 64512:1 64512:2 large:1:2:3 lp=50", "203.0.113.70/32 64512:1 64512:2 large:1:2:3 lp=50", ""},
		{"aggregation: one route for two IPs", []v1beta1.BGPAdvertisement{bgpAdv("agg", agg(27, 120))},
			[]Service{svc("d/a", "203.0.113.70"), svc("d/b", "203.0.113.90")},
			"203.0.113.64/27", "203.0.113.64/27", ""},
		{"node selector excludes this node", []v1beta1.BGPAdvertisement{bgpAdv("n2", nodeSel("node2"))},
			[]Service{svc("d/a", "203.0.113.70")}, "", "", ""},
		{"local: endpoint here", []v1beta1.BGPAdvertisement{bgpAdv("all")},
			[]Service{local(svc("d/a", "203.0.113.70"), "node1")}, "203.0.113.70/32", "203.0.113.70/32", ""},
		{"local: endpoint elsewhere", []v1beta1.BGPAdvertisement{bgpAdv("all")},
			[]Service{local(svc("d/a", "203.0.113.70"), "node3")}, "", "", ""},
		{"no ready endpoint: withdrawn", []v1beta1.BGPAdvertisement{bgpAdv("all")},
			[]Service{notReady(svc("d/a", "203.0.113.70"))}, "", "", "no endpoint of the Service is ready"},
		{"no advertisement", nil, []Service{svc("d/a", "203.0.113.70")}, "", "", `no L2Advertisement or BGPAdvertisement selects pool "routed"`},
		{"advertised to a peer no node has", []v1beta1.BGPAdvertisement{bgpAdv("x", withPeers("nowhere"))},
			[]Service{svc("d/a", "203.0.113.70")}, "", "", "has a session to its peers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(bgpWorld(config.Objects{Pools: []v1beta1.IPAddressPool{routed}, BGP: tt.advs, Peers: peers}, tt.svcs...))
			if got := routes(p, "tor"); got != tt.tor {
				t.Errorf("tor: %q, want %q", got, tt.tor)
			}
			if got := routes(p, "tor6"); got != tt.tor6 {
				t.Errorf("tor6: %q, want %q", got, tt.tor6)
			}
			switch {
			case tt.why == "" && len(p.Unannounced) > 0 && tt.tor != "":
				t.Errorf("unannounced %v", p.Unannounced)
			case tt.why != "" && (len(p.Unannounced) == 0 || !strings.Contains(p.Unannounced[0].Reason, tt.why)):
				t.Errorf("unannounced %v, want %q", p.Unannounced, tt.why)
			}
		})
	}
}

func TestBGPAdvertisedForEvents(t *testing.T) {
	p := Compute(bgpWorld(config.Objects{
		Pools: []v1beta1.IPAddressPool{routed}, BGP: []v1beta1.BGPAdvertisement{bgpAdv("all")},
		Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1"), peer("tor6", "2001:db8:1::1")},
	}, svc("d/b", "203.0.113.70"), svc("d/a", "203.0.113.70")))
	if len(p.BGP.Advertised) != 1 {
		t.Fatalf("advertised = %+v", p.BGP.Advertised)
	}
	a := p.BGP.Advertised[0]
	if a.Prefix.String() != "203.0.113.70/32" || !slices.Equal(a.Sessions, []string{"tor", "tor6"}) || !slices.Equal(a.Services, []string{"d/a", "d/b"}) {
		t.Errorf("advertised = %+v", a)
	}
}

// Both modes for one pool: each follows its own rules. Layer 2 elects one
// node; BGP has every eligible node advertise.
func TestBothModes(t *testing.T) {
	in := bgpWorld(config.Objects{
		Pools: []v1beta1.IPAddressPool{routed},
		L2:    []v1beta1.L2Advertisement{adv("l2")},
		BGP:   []v1beta1.BGPAdvertisement{bgpAdv("bgp")},
		Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")},
	}, svc("d/a", "203.0.113.70"))
	in.Members = []Member{{Name: "node2", Links: []Link{{Name: "eth0", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.66/27")}}}, AnyLink: true}}
	p := Compute(in)
	if len(p.L2) != 1 || p.L2[0].Winner != "node2" || len(p.Mine()) != 0 {
		t.Errorf("L2 = %+v: node2 should win (the only member)", p.L2)
	}
	if got := routes(p, "tor"); got != "203.0.113.70/32" {
		t.Errorf("BGP routes of node1 = %q", got)
	}
}

// TestSessionsWithoutServices: the sessions a starting speaker opens from
// the configuration, its own Node and passwords alone (Sessions) are
// those of the plan made once the Services are listed, so that the first
// plan re-creates none of them.
func TestSessionsWithoutServices(t *testing.T) {
	in := bgpWorld(config.Objects{
		Pools: []v1beta1.IPAddressPool{pool("routed", nil, "203.0.113.64/27")},
		BGP:   []v1beta1.BGPAdvertisement{bgpAdv("routed")},
		Peers: []v1beta1.BGPPeer{
			peer("tor", "198.51.100.1"),
			peer("rack2", "198.51.100.2", onNodesPeer(map[string]string{"kubernetes.io/hostname": "node2"})),
		},
	}, svc("default/api", "203.0.113.70"), local(svc("default/web", "203.0.113.71"), "node2"))
	full := Compute(in)
	early := in
	early.Services, early.Members, early.Nodes = nil, nil, []Node{in.Nodes[0]}
	sessions, problems := Sessions(early)
	if len(full.BGP.Sessions) != 1 || !reflect.DeepEqual(sessions, full.BGP.Sessions) || !reflect.DeepEqual(problems, full.BGP.Problems) {
		t.Errorf("Sessions without Services: %+v, problems %v\nthe plan's: %+v, problems %v", sessions, problems, full.BGP.Sessions, full.BGP.Problems)
	}
}
