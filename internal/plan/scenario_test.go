package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
)

// TestScenarios replays the scripts in testdata/scenarios: a small cluster
// in which each node plans from its own view, through membership churn,
// partitions and link changes. After every command the harness checks that
// no IP is answered by two nodes. `go test -rewrite` updates the expected
// output after a deliberate change.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		s := newScenario()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := s.run(d)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			if err := s.checkSingleAnswer(); err != nil {
				d.Fatalf(t, "%v", err)
			}
			return out
		})
	})
}

// scenario is the simulated cluster.
type scenario struct {
	pools    []v1beta1.IPAddressPool
	advs     []v1beta1.L2Advertisement
	nodes    []string // in creation order
	node     map[string]*Node
	links    map[string][]Link
	running  map[string]bool
	known    map[string]bool // speakers with a live Lease
	group    map[string]int  // partition side
	services map[string]Service
	tie      election.TieLease
	now      time.Time
}

func newScenario() *scenario {
	return &scenario{
		node: map[string]*Node{}, links: map[string][]Link{}, running: map[string]bool{},
		known: map[string]bool{}, group: map[string]int{}, services: map[string]Service{},
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
	}
}

func (s *scenario) run(d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "pool":
		s.pools = append(s.pools, pool(arg(d, "name"), labelsArg(d, "labels"), list(d, "addrs")...))
	case "l2adv":
		a := adv(arg(d, "name"), forPools(list(d, "pools")...), onIfaces(list(d, "ifaces")...))
		if l := labelsArg(d, "nodes"); l != nil {
			a.Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: l}}
		}
		s.advs = append(s.advs, a)
	case "node":
		name := arg(d, "name")
		i, err := strconv.Atoi(strings.TrimPrefix(name, "node"))
		if err != nil {
			return "", fmt.Errorf("node names are node<N>: %q", name)
		}
		n := &Node{Name: name, Labels: labelsArg(d, "labels"), Excluded: d.HasArg("excluded"), NetworkUnavailable: d.HasArg("unavailable")}
		if s.node[name] == nil {
			s.nodes = append(s.nodes, name)
			s.links[name] = lanLinks(i)
			s.running[name], s.known[name] = true, true
		}
		s.node[name] = n
	case "stop": // the speaker dies without leaving; its Lease stays
		s.running[arg(d, "name")] = false
	case "leave": // a graceful exit: it leaves memberlist and deletes its Lease
		s.running[arg(d, "name")], s.known[arg(d, "name")] = false, false
	case "start":
		s.running[arg(d, "name")], s.known[arg(d, "name")] = true, true
	case "partition": // partition sides=node1,node2/node3
		for i, side := range strings.Split(arg(d, "sides"), "/") {
			for _, n := range strings.Split(side, ",") {
				s.group[n] = i
			}
		}
	case "heal":
		s.group = map[string]int{}
	case "links": // links name=node1 [eth0=198.51.100.11/25] [eth1=...]; none: no link up
		var links []Link
		for _, a := range d.CmdArgs {
			if a.Key == "name" {
				continue
			}
			l := Link{Name: a.Key}
			for _, v := range a.Vals {
				l.Prefixes = append(l.Prefixes, netip.MustParsePrefix(v))
			}
			links = append(links, l)
		}
		s.links[arg(d, "name")] = links
	case "service":
		sv := Service{Key: arg(d, "key"), Local: d.HasArg("local"), Ready: !d.HasArg("notready")}
		for _, ip := range list(d, "ips") {
			sv.IPs = append(sv.IPs, netip.MustParseAddr(ip))
		}
		if d.HasArg("ready") {
			sv.ReadyNodes = list(d, "ready")
			sv.Ready = len(sv.ReadyNodes) > 0
		}
		s.services[sv.Key] = sv
	case "delete":
		delete(s.services, arg(d, "key"))
	case "tick": // tick seconds=5: time passes, for the tie-breaker
		sec, _ := strconv.Atoi(arg(d, "seconds"))
		s.now = s.now.Add(time.Duration(sec) * time.Second)
	case "answers":
		return s.answers(), nil
	default:
		return "", fmt.Errorf("unknown command %q", d.Cmd)
	}
	return "ok", nil
}

// view is node n's inputs: it sees alive the running speakers on its side.
func (s *scenario) view(n string) (Inputs, election.Verdict) {
	in := Inputs{Self: n, Config: config.Announcements(config.Objects{Pools: s.pools, L2: s.advs}), SelfLinks: s.links[n]}
	for _, name := range s.nodes {
		in.Nodes = append(in.Nodes, *s.node[name])
	}
	var alive, known []string
	for _, m := range s.nodes {
		if s.known[m] {
			known = append(known, m)
		}
		if !s.running[m] || s.group[m] != s.group[n] {
			continue
		}
		alive = append(alive, m)
		in.Members = append(in.Members, Member{Name: m, Links: Gossip(s.links[m], in.Config), AnyLink: len(s.links[m]) > 0})
	}
	keys := make([]string, 0, len(s.services))
	for k := range s.services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		in.Services = append(in.Services, s.services[k])
	}
	v := election.Decide(n, known, alive, s.tie, s.now)
	if a := election.NextTieAction(n, v, s.tie, s.now); a == election.TieAcquire || a == election.TieRenew {
		// The first speaker to ask gets the Lease, as the apiserver's
		// optimistic concurrency would have it.
		s.tie = election.TieLease{Holder: n, Side: alive, Seen: s.now, Duration: 4 * time.Second}
		v = election.Decide(n, known, alive, s.tie, s.now)
	} else if a == election.TieRelease {
		s.tie = election.TieLease{}
	}
	in.Claim = v.Claim
	return in, v
}

// answers prints, per node, its quorum verdict, then for each Service IP
// which nodes answer for it and on which interfaces, or why nobody does (as
// the reporting speaker of the largest side sees it).
func (s *scenario) answers() string {
	var b strings.Builder
	who := map[netip.Addr][]string{}
	why := map[netip.Addr]string{}
	reported := -1
	for _, n := range s.nodes {
		if !s.running[n] {
			fmt.Fprintf(&b, "%s: stopped\n", n)
			continue
		}
		in, v := s.view(n)
		verdict := "no quorum"
		if v.Claim {
			verdict = "claims"
		}
		if v.Tie {
			verdict += " (tie)"
		}
		fmt.Fprintf(&b, "%s: %d/%d alive, %s\n", n, v.Alive, v.Known, verdict)
		p := Compute(in)
		for _, e := range p.Mine() {
			who[e.IP] = append(who[e.IP], fmt.Sprintf("%s on %s", n, strings.Join(e.Interfaces, ",")))
		}
		if v.Claim && p.Reporter == n && len(in.Members) > reported {
			reported = len(in.Members)
			for _, u := range p.Unannounced {
				why[u.IP] = u.Reason
			}
		}
	}
	var ips []netip.Addr
	for _, sv := range s.services {
		ips = append(ips, sv.IPs...)
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	for _, ip := range slices.Compact(ips) {
		if w := who[ip]; len(w) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", ip, strings.Join(w, "; "))
		} else if r := why[ip]; r != "" {
			fmt.Fprintf(&b, "%s: nobody: %s\n", ip, r)
		} else {
			fmt.Fprintf(&b, "%s: nobody\n", ip)
		}
	}
	return b.String()
}

// checkSingleAnswer is the split-brain invariant: whatever the partitions,
// no IP is claimed by two nodes at once.
func (s *scenario) checkSingleAnswer() error {
	owner := map[netip.Addr]string{}
	for _, n := range s.nodes {
		if !s.running[n] {
			continue
		}
		in, _ := s.view(n)
		for _, e := range Compute(in).Mine() {
			if o, ok := owner[e.IP]; ok {
				return fmt.Errorf("split brain: %s and %s both answer for %s", o, n, e.IP)
			}
			owner[e.IP] = n
		}
	}
	return nil
}

func arg(d *datadriven.TestData, key string) string {
	for _, a := range d.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return ""
}

func list(d *datadriven.TestData, key string) []string {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			var out []string
			for _, v := range a.Vals {
				out = append(out, strings.Split(v, ",")...)
			}
			return out
		}
	}
	return nil
}

func labelsArg(d *datadriven.TestData, key string) map[string]string {
	var out map[string]string
	for _, kv := range list(d, key) {
		k, v, _ := strings.Cut(kv, "=")
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
	}
	return out
}
