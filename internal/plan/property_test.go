package plan

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/heraldlb/herald/api/v1beta1"
)

// randomWorld builds a cluster of up to six nodes with random labels,
// exclusions, live speakers, links and Services, all seen by self.
func randomWorld(rng *rand.Rand, self string) Inputs {
	n := 1 + rng.IntN(6)
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("node%d", i))
	}
	if !slices.Contains(names, self) {
		names = append(names, self)
	}
	advs := []v1beta1.L2Advertisement{adv("lan", forPools("lan"))}
	if rng.IntN(2) == 0 {
		advs = []v1beta1.L2Advertisement{
			adv("rack-a", forPools("lan"), onNodes(map[string]string{"rack": "a"}), onIfaces("eth0")),
			adv("rack-b", forPools("lan"), onNodes(map[string]string{"rack": "b"})),
		}
	}
	w := newWorld(self).config(pools(lan), advs...)
	for i, name := range names {
		rack := "a"
		if rng.IntN(2) == 0 {
			rack = "b"
		}
		w.node(Node{Name: name, Labels: map[string]string{"rack": rack}, Excluded: rng.IntN(6) == 0, NetworkUnavailable: rng.IntN(8) == 0})
		if rng.IntN(5) > 0 {
			links := lanLinks(i + 1)
			if rng.IntN(6) == 0 {
				links = nil
			}
			w.in.Members = append(w.in.Members, Member{Name: name, Links: links, AnyLink: len(links) > 0})
			if name == self {
				w.in.SelfLinks = links
			}
		}
	}
	for i := range 1 + rng.IntN(12) {
		ip := netip.MustParseAddr("198.51.100.64")
		for range rng.IntN(40) { // some fall outside the pool
			ip = ip.Next()
		}
		s := svc(fmt.Sprintf("ns/s%d", i), ip.String())
		switch rng.IntN(4) {
		case 0:
			s = notReady(s)
		case 1:
			var on []string
			for _, name := range names {
				if rng.IntN(2) == 0 {
					on = append(on, name)
				}
			}
			s = local(s, on...)
		}
		w.service(s)
	}
	// Members must gossip what Gossip derives, as the shell does.
	for i := range w.in.Members {
		w.in.Members[i].Links = Gossip(w.in.Members[i].Links, w.in.Config)
	}
	return w.in
}

func shuffled[T any](rng *rand.Rand, in []T) []T {
	out := slices.Clone(in)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Order must not matter: informer caches and memberlist list things in any
// order, and every speaker must still compute the same plan.
func TestPlanIgnoresInputOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 500 {
		in := randomWorld(rng, "node1")
		want := Compute(in)
		for range 4 {
			perm := in
			perm.Services = shuffled(rng, in.Services)
			perm.Nodes = shuffled(rng, in.Nodes)
			perm.Members = shuffled(rng, in.Members)
			perm.SelfLinks = shuffled(rng, in.SelfLinks)
			if got := Compute(perm); !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: plan depends on input order:\n%+v\nvs\n%+v", round, got, want)
			}
		}
	}
}

// Every winner must satisfy every rule, and speakers that see the same
// cluster agree on every winner, so each IP has exactly one announcer.
func TestPlanInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 1000 {
		seed := rng.Uint64()
		if err := checkInvariants(randomWorld(rand.New(rand.NewPCG(seed, 1)), "node1")); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func FuzzPlan(f *testing.F) {
	for _, seed := range []uint64{0, 1, 42, 1 << 40} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		if err := checkInvariants(randomWorld(rand.New(rand.NewPCG(seed, 1)), "node1")); err != nil {
			t.Fatal(err)
		}
	})
}

func checkInvariants(in Inputs) error {
	p := Compute(in)
	nodes := map[string]Node{}
	for _, n := range in.Nodes {
		nodes[n.Name] = n
	}
	alive := map[string]bool{}
	for _, m := range in.Members {
		alive[m.Name] = true
	}
	covered := map[netip.Addr]bool{}
	for _, e := range p.L2 {
		covered[e.IP] = true
		n := nodes[e.Winner]
		if !alive[e.Winner] || n.Excluded || n.NetworkUnavailable {
			return fmt.Errorf("%s won by ineligible %+v (alive %v)", e.IP, n, alive[e.Winner])
		}
		for _, s := range in.Services {
			if slices.Contains(s.IPs, e.IP) && s.Local && s.Ready && !slices.Contains(s.ReadyNodes, e.Winner) {
				return fmt.Errorf("%s won by %s, which has no local endpoint of %s", e.IP, e.Winner, s.Key)
			}
		}
		if e.Winner == in.Self && len(e.Interfaces) == 0 {
			return fmt.Errorf("self wins %s with no interface", e.IP)
		}
	}
	for _, u := range p.Unannounced {
		if covered[u.IP] || u.Reason == "" {
			return fmt.Errorf("%s both announced and not (%q)", u.IP, u.Reason)
		}
	}
	// Every member, with the same view, agrees.
	for _, m := range in.Members {
		view := in
		view.Self, view.SelfLinks = m.Name, m.Links
		for _, e := range Compute(view).L2 {
			if i := slices.IndexFunc(p.L2, func(x L2) bool { return x.IP == e.IP }); i < 0 || p.L2[i].Winner != e.Winner {
				return fmt.Errorf("%s sees %s won by %s; %s disagrees", m.Name, e.IP, e.Winner, in.Self)
			}
		}
	}
	return nil
}
