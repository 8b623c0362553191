package plan

import (
	"net/netip"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
)

// The tests' world: three nodes on 198.51.100.0/25 and 2001:db8:1::/64,
// each with one link eth0, a pool on that LAN, and one L2Advertisement.

func lanLinks(i int) []Link {
	return []Link{{Name: "eth0", Prefixes: []netip.Prefix{
		netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)}), 25),
		netip.MustParsePrefix("2001:db8:1::" + string(rune('0'+i)) + "/64"),
	}}}
}

type world struct{ in Inputs }

func newWorld(self string) *world {
	return &world{in: Inputs{Self: self, Claim: true}}
}

func (w *world) config(pools []v1beta1.IPAddressPool, advs ...v1beta1.L2Advertisement) *world {
	w.in.Config = config.Announcements(config.Objects{Pools: pools, L2: advs})
	return w
}

func (w *world) nodes(names ...string) *world {
	for _, n := range names {
		w.in.Nodes = append(w.in.Nodes, Node{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}})
	}
	return w
}

func (w *world) node(n Node) *world {
	w.in.Nodes = append(w.in.Nodes, n)
	return w
}

// alive makes the named nodes live members with the LAN link; node i is
// "node<i>".
func (w *world) alive(names ...string) *world {
	for _, n := range names {
		i := int(n[len(n)-1] - '0')
		m := Member{Name: n, Links: lanLinks(i), AnyLink: true}
		if n == w.in.Self {
			w.in.SelfLinks = lanLinks(i)
		}
		w.in.Members = append(w.in.Members, m)
	}
	return w
}

// settling marks an alive member as settling.
func (w *world) settling(name string) *world {
	for i := range w.in.Members {
		if w.in.Members[i].Name == name {
			w.in.Members[i].Settling = true
		}
	}
	return w
}

func (w *world) service(s Service) *world {
	w.in.Services = append(w.in.Services, s)
	return w
}

func pool(name string, labels map[string]string, addrs ...string) v1beta1.IPAddressPool {
	p := v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	for _, a := range addrs {
		p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(a))
	}
	return p
}

type advOpt func(*v1beta1.L2Advertisement)

func adv(name string, opts ...advOpt) v1beta1.L2Advertisement {
	a := v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, o := range opts {
		o(&a)
	}
	return a
}

func forPools(names ...string) advOpt {
	return func(a *v1beta1.L2Advertisement) { a.Spec.IPAddressPools = names }
}

func onNodes(labels map[string]string) advOpt {
	return func(a *v1beta1.L2Advertisement) {
		a.Spec.NodeSelectors = append(a.Spec.NodeSelectors, metav1.LabelSelector{MatchLabels: labels})
	}
}

func onIfaces(names ...string) advOpt {
	return func(a *v1beta1.L2Advertisement) { a.Spec.Interfaces = names }
}

func svc(key string, ips ...string) Service {
	s := Service{Key: key, Ready: true}
	for _, ip := range ips {
		s.IPs = append(s.IPs, netip.MustParseAddr(ip))
	}
	return s
}

func local(s Service, readyOn ...string) Service {
	s.Local, s.ReadyNodes = true, readyOn
	s.Ready = len(readyOn) > 0
	return s
}

func notReady(s Service) Service {
	s.Ready = false
	return s
}

// winners renders who wins what, "ip=node ip=node", for compact checks.
func winners(p Plan) string {
	var out []string
	for _, e := range p.L2 {
		out = append(out, e.IP.String()+"="+e.Winner)
	}
	return strings.Join(out, " ")
}
