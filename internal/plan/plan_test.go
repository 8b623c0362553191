package plan

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/election"
)

var lan = pool("lan", map[string]string{"tier": "web"}, "198.51.100.64/27", "2001:db8:1::100/120")

func pools(p ...v1beta1.IPAddressPool) []v1beta1.IPAddressPool { return p }

func addrs(first string, n int) []string {
	ip := netip.MustParseAddr(first)
	var out []string
	for range n {
		out = append(out, ip.String())
		ip = ip.Next()
	}
	return out
}

func TestWinnersFollowTheElection(t *testing.T) {
	w := newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").alive("node1", "node2", "node3")
	for _, ip := range append(addrs("198.51.100.64", 30), addrs("2001:db8:1::100", 10)...) {
		w.service(svc("default/s-"+ip, ip))
	}
	p := Compute(w.in)
	if len(p.L2) != 40 || len(p.Unannounced) != 0 {
		t.Fatalf("plan has %d entries, unannounced %v", len(p.L2), p.Unannounced)
	}
	mine := 0
	for _, e := range p.L2 {
		want, _ := election.Winner(e.IP, []string{"node1", "node2", "node3"})
		if e.Winner != want || e.Pool != "lan" || !slices.Equal(e.Interfaces, []string{"eth0"}) || e.Fallback {
			t.Errorf("%s: entry %+v, want winner %s on eth0", e.IP, e, want)
		}
		if e.Winner == "node1" {
			mine++
		}
	}
	if got := len(p.Mine()); got != mine || mine == 0 {
		t.Errorf("Mine has %d entries, want %d", got, mine)
	}
	w.in.Claim = false
	if got := Compute(w.in).Mine(); len(got) != 0 {
		t.Errorf("without quorum Mine = %v, want nothing", got)
	}
}

// Each case plans one IP, 198.51.100.70, whose winner among all three nodes
// is byHash (checked below), and expects a winner or a reason.
func TestCandidates(t *testing.T) {
	const ip = "198.51.100.70"
	rank := election.Rank(netip.MustParseAddr(ip), []string{"node1", "node2", "node3"})
	base := func() *world {
		return newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").alive("node1", "node2", "node3")
	}
	tests := []struct {
		name   string
		world  *world
		winner string // "" when nobody announces
		reason string // a part of the reason when nobody does
	}{
		{"all eligible", base().service(svc("d/a", ip)), rank[0], ""},
		{"winner dead", newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").
			alive(without(rank[0])...).service(svc("d/a", ip)), rank[1], ""},
		{"nobody alive", newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").service(svc("d/a", ip)),
			"", "no speaker"},
		{"not in any pool", base().service(svc("d/a", "203.0.113.9")), "", "in no IPAddressPool"},
		{"no advertisement", newWorld("node1").config(pools(lan)).nodes("node1").alive("node1").service(svc("d/a", ip)),
			"", `no L2Advertisement or BGPAdvertisement selects pool "lan"`},
		{"advertisement for another pool", newWorld("node1").config(pools(lan), adv("x", forPools("other"))).nodes("node1").alive("node1").
			service(svc("d/a", ip)), "", "no L2Advertisement"},
		{"node selector picks one node", newWorld("node1").config(pools(lan), adv("lan", onNodes(map[string]string{"kubernetes.io/hostname": rank[2]}))).
			nodes("node1", "node2", "node3").alive("node1", "node2", "node3").service(svc("d/a", ip)), rank[2], ""},
		{"node selector picks none", newWorld("node1").config(pools(lan), adv("lan", onNodes(map[string]string{"rack": "9"}))).
			nodes("node1", "node2", "node3").alive("node1", "node2", "node3").service(svc("d/a", ip)), "", "nodeSelectors"},
		{"excluded node skipped", newWorld("node1").config(pools(lan), adv("lan")).node(Node{Name: rank[0], Excluded: true}).
			nodes(without(rank[0])...).alive("node1", "node2", "node3").service(svc("d/a", ip)), rank[1], ""},
		{"network unavailable skipped", newWorld("node1").config(pools(lan), adv("lan")).node(Node{Name: rank[0], NetworkUnavailable: true}).
			nodes(without(rank[0])...).alive("node1", "node2", "node3").service(svc("d/a", ip)), rank[1], ""},
		{"all excluded", newWorld("node1").config(pools(lan), adv("lan")).node(Node{Name: "node1", Excluded: true}).
			alive("node1").service(svc("d/a", ip)), "", "exclude-from-external-load-balancers"},
		{"settling member is no candidate", newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").
			alive("node1", "node2", "node3").settling(rank[0]).service(svc("d/a", ip)), rank[1], ""},
		{"member without a Node object", newWorld("node1").config(pools(lan), adv("lan")).nodes(rank[2]).
			alive("node1", "node2", "node3").service(svc("d/a", ip)), rank[2], ""},
		{"no ready endpoint", base().service(notReady(svc("d/a", ip))), "", "no endpoint"},
		{"local: only nodes with a local endpoint", base().service(local(svc("d/a", ip), rank[2])), rank[2], ""},
		{"local: endpoint on a dead node", newWorld("node1").config(pools(lan), adv("lan")).nodes("node1", "node2", "node3").
			alive(without(rank[2])...).service(local(svc("d/a", ip), rank[2])), "", "no speaker"},
		{"local: no ready endpoint", base().service(local(svc("d/a", ip))), "", "no endpoint"},
		{"shared: cluster and local together", base().service(svc("d/a", ip)).service(local(svc("d/b", ip), rank[1], rank[2])), rank[1], ""},
		{"shared: the unready service does not constrain", base().service(local(svc("d/a", ip))).service(svc("d/b", ip)), rank[0], ""},
		{"shared: no common node", base().service(local(svc("d/a", ip), rank[0])).service(local(svc("d/b", ip), rank[1])),
			"", "externalTrafficPolicy Local"},
		{"interfaces: node without the named interface is not a candidate", base().config(pools(lan), adv("lan", onIfaces("eth9"))).
			service(svc("d/a", ip)), "", "no speaker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(tt.world.in)
			got := winners(p)
			if tt.winner != "" {
				if want := ip + "=" + tt.winner; !strings.Contains(got, want) || len(p.Unannounced) != 0 {
					t.Errorf("winners %q, unannounced %v; want %s", got, p.Unannounced, want)
				}
				return
			}
			if got != "" || len(p.Unannounced) == 0 || !strings.Contains(p.Unannounced[0].Reason, tt.reason) {
				t.Errorf("winners %q, unannounced %v; want nobody, because %q", got, p.Unannounced, tt.reason)
			}
			for _, u := range p.Unannounced {
				if u.Service == "" || !u.IP.IsValid() {
					t.Errorf("unannounced entry without service or IP: %+v", u)
				}
			}
		})
	}
}

func without(node string) []string {
	return slices.DeleteFunc([]string{"node1", "node2", "node3"}, func(n string) bool { return n == node })
}

func TestSharedIPListsEveryService(t *testing.T) {
	const ip = "198.51.100.80"
	p := Compute(newWorld("node1").config(pools(lan), adv("lan")).nodes("node1").alive("node1").
		service(svc("ns/b", ip)).service(svc("ns/a", ip)).in)
	if len(p.L2) != 1 || !slices.Equal(p.L2[0].Services, []string{"ns/a", "ns/b"}) {
		t.Errorf("L2 = %+v, want one entry naming both Services", p.L2)
	}
}

func TestInterfaces(t *testing.T) {
	const ip = "198.51.100.70"
	lan2 := Link{Name: "eth1", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.130/26")}}
	dummy := Link{Name: "dummy0"}
	tests := []struct {
		name      string
		advIfaces []string
		links     []Link
		want      []string
		fallback  bool
	}{
		{"the link whose subnet holds the IP", nil, append(lanLinks(1), lan2), []string{"eth0"}, false},
		{"restricted to a link without the subnet: that link", []string{"eth1"}, append(lanLinks(1), lan2), []string{"eth1"}, false},
		{"restricted to the subnet's link", []string{"eth0", "eth1"}, append(lanLinks(1), lan2), []string{"eth0"}, false},
		{"no link holds the subnet: fallback to every link", nil, []Link{lan2, dummy}, []string{"dummy0", "eth1"}, true},
		{"restricted, named link absent", []string{"eth7"}, lanLinks(1), nil, false},
		{"host route is not a subnet", nil, []Link{{Name: "lo1", Prefixes: []netip.Prefix{netip.MustParsePrefix(ip + "/32")}}, lan2}, []string{"eth1", "lo1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld("node1").config(pools(lan), adv("lan", onIfaces(tt.advIfaces...))).nodes("node1").service(svc("d/a", ip))
			w.in.SelfLinks = tt.links
			w.in.Members = []Member{{Name: "node1"}}
			p := Compute(w.in)
			if tt.want == nil {
				if len(p.L2) != 0 {
					t.Errorf("L2 = %+v, want nothing", p.L2)
				}
				return
			}
			if len(p.L2) != 1 || !slices.Equal(p.L2[0].Interfaces, tt.want) || p.L2[0].Fallback != tt.fallback {
				t.Errorf("L2 = %+v, want interfaces %v fallback %v", p.L2, tt.want, tt.fallback)
			}
		})
	}
}

// Other nodes are judged by the links they gossip. A node's own view of
// itself must use the same list, or two nodes could both think they win.
func TestSelfIsJudgedByWhatItGossips(t *testing.T) {
	const ip = "198.51.100.70"
	rank := election.Rank(netip.MustParseAddr(ip), []string{"node1", "node2"})
	// The winner's LAN link is down: it has only a link on another subnet.
	other := []Link{{Name: "eth1", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.130/26")}}}
	cfg := newWorld("").config(pools(lan), adv("lan", onIfaces("eth0"))).in.Config
	for _, self := range rank {
		w := newWorld(self).nodes(rank...).service(svc("d/a", ip))
		w.in.Config = cfg
		for i, n := range rank {
			links := lanLinks(i + 1)
			if n == rank[0] {
				links = other
			}
			if n == self {
				w.in.SelfLinks = links
			}
			w.in.Members = append(w.in.Members, Member{Name: n, Links: Gossip(links, cfg), AnyLink: true})
		}
		if got := winners(Compute(w.in)); got != ip+"="+rank[1] {
			t.Errorf("as %s: winners %q, want %s", self, got, rank[1])
		}
	}
}

func TestGossip(t *testing.T) {
	cfg := newWorld("").config(pools(lan), adv("lan", onIfaces("bond0"))).in.Config
	links := []Link{
		{Name: "eth0", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.11/25"), netip.MustParsePrefix("203.0.113.5/26"), netip.MustParsePrefix("fe80::1/64")}},
		{Name: "docker0", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.129/26")}},
		{Name: "bond0"},
		{Name: "vip", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.70/32")}},
	}
	got := Gossip(links, cfg)
	want := []Link{
		{Name: "eth0", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.11/25")}},
		{Name: "bond0"},
	}
	if len(got) != len(want) {
		t.Fatalf("Gossip = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || !slices.Equal(got[i].Prefixes, want[i].Prefixes) {
			t.Errorf("Gossip[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestReporterIsFirstMember(t *testing.T) {
	p := Compute(newWorld("node2").alive("node3", "node2").in)
	if p.Reporter != "node2" {
		t.Errorf("Reporter = %q, want node2", p.Reporter)
	}
}
