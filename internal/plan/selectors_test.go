package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

func labelled(s Service, kv ...string) Service {
	s.Labels = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Labels[kv[i]] = kv[i+1]
	}
	return s
}

var webOnly = []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "web"}}}

// serviceSelectors on either kind of advertisement: only Services whose
// labels match are announced, ANDed with the pool selection; a label
// change moves a Service in or out.
func TestServiceSelectors(t *testing.T) {
	l2 := adv("web", forPools("lan"), func(a *v1beta1.L2Advertisement) { a.Spec.ServiceSelectors = webOnly })
	bgp := bgpAdv("web", func(a *v1beta1.BGPAdvertisement) {
		a.Spec.IPAddressPools = []string{"routed"}
		a.Spec.ServiceSelectors = webOnly
	})
	objs := config.Objects{Pools: []v1beta1.IPAddressPool{pool("lan", nil, "198.51.100.64/27"), routed},
		L2: []v1beta1.L2Advertisement{l2}, BGP: []v1beta1.BGPAdvertisement{bgp}, Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")}}
	tests := []struct {
		name         string
		l2, bgp      Service
		announced    bool
		whyL2, whyBG string
	}{
		{name: "matching", l2: labelled(svc("ns/a", "198.51.100.70"), "app", "web"), bgp: labelled(svc("ns/b", "203.0.113.70"), "app", "web"), announced: true},
		{name: "no match", l2: labelled(svc("ns/a", "198.51.100.70"), "app", "db"), bgp: labelled(svc("ns/b", "203.0.113.70"), "app", "db"),
			whyL2: `no L2Advertisement that selects pool "lan" selects the Service by its labels`, whyBG: `no BGPAdvertisement that selects pool "routed" selects the Service by its labels`},
		{name: "no labels", l2: svc("ns/a", "198.51.100.70"), bgp: svc("ns/b", "203.0.113.70"),
			whyL2: "selects the Service by its labels", whyBG: "selects the Service by its labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bgpWorld(objs, tt.l2, tt.bgp)
			in.Members = []Member{{Name: "node1", Links: lanLinks(1), AnyLink: true}}
			in.SelfLinks = lanLinks(1)
			p := Compute(in)
			gotL2 := len(p.L2) == 1 && p.L2[0].IP.String() == "198.51.100.70"
			gotBGP := routes(p, "tor") == "203.0.113.70/32"
			if gotL2 != tt.announced || gotBGP != tt.announced {
				t.Fatalf("L2 %v, BGP routes %q; want announced %v (unannounced %v)", p.L2, routes(p, "tor"), tt.announced, p.Unannounced)
			}
			if tt.announced {
				return
			}
			why := map[string]string{}
			for _, u := range p.Unannounced {
				why[u.Service] = u.Reason
			}
			if !strings.Contains(why["ns/a"], tt.whyL2) || !strings.Contains(why["ns/b"], tt.whyBG) {
				t.Errorf("reasons %q, %q; want %q, %q", why["ns/a"], why["ns/b"], tt.whyL2, tt.whyBG)
			}
		})
	}
}

// An IP shared by two Services is announced when either matches; two
// Services of one pool, one matching, are planned apart although they share
// the pool's plan otherwise; an advertisement without serviceSelectors
// still covers every Service.
func TestServiceSelectorsShareAPool(t *testing.T) {
	objs := config.Objects{Pools: []v1beta1.IPAddressPool{routed}, Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1"), peer("edge", "198.51.100.2")},
		BGP: []v1beta1.BGPAdvertisement{
			bgpAdv("web", func(a *v1beta1.BGPAdvertisement) { a.Spec.ServiceSelectors = webOnly; a.Spec.Peers = []string{"tor"} }),
			bgpAdv("all", func(a *v1beta1.BGPAdvertisement) { a.Spec.Peers = []string{"edge"} }),
		}}
	p := Compute(bgpWorld(objs,
		labelled(svc("ns/web", "203.0.113.70"), "app", "web"),
		svc("ns/other", "203.0.113.71"),
		svc("ns/shared-a", "203.0.113.72"), labelled(svc("ns/shared-b", "203.0.113.72"), "app", "web"),
	))
	if got, want := routes(p, "tor"), "203.0.113.70/32, 203.0.113.72/32"; got != want {
		t.Errorf("tor gets %q, want %q", got, want)
	}
	if got, want := routes(p, "edge"), "203.0.113.70/32, 203.0.113.71/32, 203.0.113.72/32"; got != want {
		t.Errorf("edge gets %q, want %q", got, want)
	}
}

// Order must not matter: the plan for Services whose labels differ is the
// same whichever Service the pool's plan is first made for.
func TestServiceSelectorsOrder(t *testing.T) {
	objs := config.Objects{Pools: []v1beta1.IPAddressPool{routed}, Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")},
		BGP: []v1beta1.BGPAdvertisement{bgpAdv("web", func(a *v1beta1.BGPAdvertisement) { a.Spec.ServiceSelectors = webOnly })}}
	a, b := svc("ns/a", "203.0.113.65"), labelled(svc("ns/b", "203.0.113.66"), "app", "web")
	one, two := Compute(bgpWorld(objs, a, b)), Compute(bgpWorld(objs, b, a))
	if routes(one, "tor") != "203.0.113.66/32" || routes(two, "tor") != routes(one, "tor") {
		t.Errorf("routes %q and %q, want 203.0.113.66/32 both", routes(one, "tor"), routes(two, "tor"))
	}
}

// A session's families decide which routes it gets: an IPv4-only session
// gets no IPv6 route, and an IP whose family no session carries is
// unannounced with the reason.
func TestSessionFamilies(t *testing.T) {
	v4only := func(p *v1beta1.BGPPeer) { p.Spec.AddressFamilies = []v1beta1.AddressFamily{v1beta1.AddressFamilyIPv4} }
	own := func(p *v1beta1.BGPPeer) { p.Spec.DualStackAddressFamily = ptr.To(false) }
	mp := func(p *v1beta1.BGPPeer) { p.Spec.DisableMP = true }
	svcs := []Service{svc("ns/v4", "203.0.113.70"), svc("ns/v6", "2001:db8:200::7")}
	tests := []struct {
		name    string
		peers   []v1beta1.BGPPeer
		want    map[string]string
		why6    string
		fams    map[string][]Family
		noWhy6  bool
		noWhyV4 bool
	}{
		{name: "default: both families on each session", peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1")},
			want: map[string]string{"tor": "203.0.113.70/32, 2001:db8:200::7/128"}, fams: map[string][]Family{"tor": {IPv4Unicast, IPv6Unicast}}},
		{name: "addressFamilies [IPv4]", peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1", v4only)},
			want: map[string]string{"tor": "203.0.113.70/32"}, fams: map[string][]Family{"tor": {IPv4Unicast}},
			why6: "no session of the nodes that BGPAdvertisement all selects to its peers carries IPv6"},
		{name: "dualStackAddressFamily false: each session its own family", peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1", own), peer("tor6", "2001:db8:1::1", own)},
			want: map[string]string{"tor": "203.0.113.70/32", "tor6": "2001:db8:200::7/128"}, fams: map[string][]Family{"tor": {IPv4Unicast}, "tor6": {IPv6Unicast}}},
		{name: "disableMP: each session its own family", peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1", mp), peer("tor6", "2001:db8:1::1", mp)},
			want: map[string]string{"tor": "203.0.113.70/32", "tor6": "2001:db8:200::7/128"}, fams: map[string][]Family{"tor": {IPv4Unicast}, "tor6": {IPv6Unicast}}},
		{name: "disableMP with only an IPv4 peer", peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1", mp)},
			want: map[string]string{"tor": "203.0.113.70/32"}, fams: map[string][]Family{"tor": {IPv4Unicast}}, why6: "carries IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := config.Objects{Pools: []v1beta1.IPAddressPool{routed}, Peers: tt.peers, BGP: []v1beta1.BGPAdvertisement{bgpAdv("all")}}
			p := Compute(bgpWorld(objs, svcs...))
			for name, want := range tt.want {
				if got := routes(p, name); got != want {
					t.Errorf("%s gets %q, want %q", name, got, want)
				}
			}
			for _, s := range p.BGP.Sessions {
				if !slices.Equal(s.Families, tt.fams[s.Name]) {
					t.Errorf("%s carries %v, want %v", s.Name, s.Families, tt.fams[s.Name])
				}
			}
			var why6 string
			for _, u := range p.Unannounced {
				if u.Service == "ns/v4" {
					t.Errorf("the IPv4 Service is unannounced: %s", u.Reason)
				}
				why6 = u.Reason
			}
			if (tt.why6 == "") != (why6 == "") || !strings.Contains(why6, tt.why6) {
				t.Errorf("IPv6 Service unannounced because %q, want %q", why6, tt.why6)
			}
			for _, a := range p.BGP.Advertised {
				for _, s := range a.Sessions {
					if !strings.Contains(tt.want[s], a.Prefix.String()) {
						t.Errorf("Advertised says %s goes to %s", a.Prefix, s)
					}
				}
			}
		})
	}
}

// toAdvertise.maxPrefixes: the first routes in address order go, the rest
// are withheld and counted; Advertised no longer names the session for
// them; the limit is near from 80%.
func TestMaxPrefixes(t *testing.T) {
	limited := func(n int32) func(*v1beta1.BGPPeer) {
		return func(p *v1beta1.BGPPeer) { p.Spec.ToAdvertise = &v1beta1.PrefixLimits{MaxPrefixes: ptr.To(n)} }
	}
	var svcs []Service
	for i := 0; i < 5; i++ {
		svcs = append(svcs, svc(fmt.Sprintf("ns/s%d", i), fmt.Sprintf("203.0.113.%d", 70-i)))
	}
	tests := []struct {
		max        int32
		routes     string
		withheld   int
		near       bool
		advertised int // Advertised entries naming "tor"
	}{
		{max: 2, routes: "203.0.113.66/32, 203.0.113.67/32", withheld: 3, near: true, advertised: 2},
		{max: 5, routes: "203.0.113.66/32, 203.0.113.67/32, 203.0.113.68/32, 203.0.113.69/32, 203.0.113.70/32", near: true, advertised: 5},
		{max: 6, routes: "203.0.113.66/32, 203.0.113.67/32, 203.0.113.68/32, 203.0.113.69/32, 203.0.113.70/32", near: true, advertised: 5},
		{max: 7, routes: "203.0.113.66/32, 203.0.113.67/32, 203.0.113.68/32, 203.0.113.69/32, 203.0.113.70/32", near: false, advertised: 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			objs := config.Objects{Pools: []v1beta1.IPAddressPool{routed}, BGP: []v1beta1.BGPAdvertisement{bgpAdv("all")},
				Peers: []v1beta1.BGPPeer{peer("tor", "198.51.100.1", limited(tt.max)), peer("free", "198.51.100.2")}}
			p := Compute(bgpWorld(objs, svcs...))
			if got := routes(p, "tor"); got != tt.routes {
				t.Errorf("tor gets %q, want %q", got, tt.routes)
			}
			if got := len(p.BGP.Paths["free"]); got != 5 {
				t.Errorf("the session without a limit gets %d routes, want 5", got)
			}
			l, ok := p.BGP.Limits["tor"]
			if !ok || l.Max != int(tt.max) || l.Wanted != 5 || l.Withheld() != tt.withheld || l.Near() != tt.near {
				t.Errorf("limit = %+v (ok %v, withheld %d, near %v), want withheld %d near %v", l, ok, l.Withheld(), l.Near(), tt.withheld, tt.near)
			}
			if _, ok := p.BGP.Limits["free"]; ok {
				t.Errorf("a session without a limit has one: %+v", p.BGP.Limits)
			}
			n := 0
			for _, a := range p.BGP.Advertised {
				if slices.Contains(a.Sessions, "tor") {
					n++
				}
				if !slices.Contains(a.Sessions, "free") {
					t.Errorf("%s lost session free", a.IP)
				}
			}
			if n != tt.advertised {
				t.Errorf("%d Advertised entries name tor, want %d", n, tt.advertised)
			}
		})
	}
}
