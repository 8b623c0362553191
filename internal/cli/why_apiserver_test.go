package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/plan"
	"github.com/heraldlb/herald/internal/reconcile"
	"github.com/heraldlb/herald/internal/testenv"
)

// naming gives one case its namespace and names that no other case uses,
// and a /28 that the 15 cases before it do not: Nodes, pools and
// HeraldNodes are cluster-scoped, and why reads them all (each case also
// deletes its objects when it ends).
type naming struct{ i int }

func (n naming) ns() string                 { return fmt.Sprintf("why-%02d", n.i) }
func (n naming) obj(name string) string     { return fmt.Sprintf("w%02d-%s", n.i, name) }
func (n naming) node(k int) string          { return n.obj(fmt.Sprintf("node%d", k)) }
func (n naming) nodes() []string            { return []string{n.node(1), n.node(2), n.node(3)} }
func (n naming) ip(k int) string            { return fmt.Sprintf("203.0.113.%d", 16*(n.i%16)+k) }
func (n naming) cidr() v1beta1.AddressRange { return v1beta1.AddressRange(n.ip(0) + "/28") }

// lan is the usual scene: three Ready Nodes with live speakers that claim,
// pool lan announced over Layer 2 by every node, and Service web with the
// pool's first IP and a ready endpoint on every node. Cases change it.
func lan(n naming, svcOpts ...svcOpt) (*scene, *v1beta1.IPAddressPool) {
	s := &scene{}
	p := pool(n.obj("lan"), []v1beta1.AddressRange{n.cidr()})
	s.pools = append(s.pools, p)
	s.add(l2Adv(n.obj("lan"), []string{p.Name}))
	for _, name := range n.nodes() {
		s.nodes = append(s.nodes, kubeNode(name))
	}
	s.speakers = speakers(n.nodes(), nil)
	web := lbService(n.ns(), "web", append([]svcOpt{allocated(p.Name, n.ip(1))}, svcOpts...)...)
	s.services = append(s.services, web)
	s.slices = append(s.slices, readyOn(web, n.nodes()...))
	return s, p
}

// waiting is a scene whose Service web has no IP yet, and the controller's
// AllocationFailed Event for it, computed by the allocator from pools and
// the Services that hold IPs.
func waiting(t *testing.T, nsLabels map[string]string, pools []*v1beta1.IPAddressPool, holders []*corev1.Service, web *corev1.Service) (*scene, string) {
	s := &scene{pools: pools, services: append(holders, web), nsLabels: nsLabels}
	msg := controllerSays(t, pools, holders, web, nsLabels)
	s.events = append(s.events, warning(web, reconcile.ReasonAllocationFailed, msg))
	return s, "The controller says (AllocationFailed): " + msg
}

type whyCase struct {
	name string
	// build returns the case's scene and the sentences why must say; a
	// sentence starting with "!" must not be said.
	build func(t *testing.T, n naming) (*scene, []string)
}

// TestWhyAgainstAPIServer puts each case's objects in the real apiserver,
// as the controller and the speakers would write them, and reads what
// heraldctl why says of Service web. One apiserver serves every case; each
// case has its own namespace, and its cluster-scoped objects are gone
// before the next case starts.
func TestWhyAgainstAPIServer(t *testing.T) {
	testenv.Require(t, env)
	for i, tt := range append(allocationCases(), announceCases()...) {
		t.Run(tt.name, func(t *testing.T) {
			n := naming{i: i + 1}
			s, want := tt.build(t, n)
			got := whyOf(t, n, s)
			for _, w := range want {
				if not, ok := strings.CutPrefix(w, "!"); ok {
					if strings.Contains(got, not) {
						t.Errorf("says %q:\n%s", not, got)
					}
				} else if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// allocationCases are Services the controller gave no IP, or that Herald
// does not handle.
func allocationCases() []whyCase {
	return []whyCase{
		{"no pool accepts the namespace", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web")
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{pool(n.obj("team"), []v1beta1.AddressRange{n.cidr()}, onlyNamespaces("team-a"))}, nil, web)
			return s, []string{"Service " + n.ns() + "/web has no IP yet.", says,
				"  IPAddressPool " + n.obj("team") + ": does not accept the Service: its serviceAllocation allows only namespaces team-a, and the Service is in namespace " + n.ns() + "."}
		}},
		{"another object's Warning of the same name is not the Service's", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web")
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{pool(n.obj("team"), []v1beta1.AddressRange{n.cidr()}, onlyNamespaces("team-a"))}, nil, web)
			pod := warning(web, "BackOff", "Back-off restarting failed container")
			pod.InvolvedObject.Kind, pod.Name = "Pod", "web.pod"
			s.events = append(s.events, pod)
			return s, []string{says, "!BackOff"}
		}},
		{"the namespace's pool exhausted", func(t *testing.T, n naming) (*scene, []string) {
			// The pool selects the namespace by its labels: why reads them.
			p := pool(n.obj("tiny"), []v1beta1.AddressRange{v1beta1.AddressRange(n.ip(1) + "/32")}, namespacesLabelled("team", "a"), full("1"))
			api := lbService(n.ns(), "api", allocated(p.Name, n.ip(1)))
			s, says := waiting(t, map[string]string{"team": "a"}, []*v1beta1.IPAddressPool{p}, []*corev1.Service{api}, lbService(n.ns(), "web"))
			return s, []string{"has no IP yet.", says, "exhausted",
				"  IPAddressPool " + p.Name + ": accepts the Service, but its status says no address is free (available 0)."}
		}},
		{"sharing key differs from the holder's", func(t *testing.T, n naming) (*scene, []string) {
			p := pool(n.obj("lan"), []v1beta1.AddressRange{n.cidr()})
			api := lbService(n.ns(), "api", allocated(p.Name, n.ip(1)), annotated(config.AnnotationAllowSharedIP, "blue"))
			web := lbService(n.ns(), "web", annotated(config.AnnotationAllowSharedIP, "green"), annotated(config.AnnotationLoadBalancerIPs, n.ip(1)))
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{p}, []*corev1.Service{api}, web)
			return s, []string{"has no IP yet.", says, n.ns() + "/api"}
		}},
		{"spec.loadBalancerIP outside every pool", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "198.51.100.250" })
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{pool(n.obj("lan"), []v1beta1.AddressRange{n.cidr()})}, nil, web)
			return s, []string{"has no IP yet.", says, "198.51.100.250"}
		}},
		{"loadBalancerIPs annotation outside every pool", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web", annotated(config.AnnotationLoadBalancerIPs, "198.51.100.251"))
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{pool(n.obj("lan"), []v1beta1.AddressRange{n.cidr()})}, nil, web)
			return s, []string{"has no IP yet.", says, "198.51.100.251"}
		}},
		{"annotation names an unknown pool", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web", annotated(config.AnnotationAddressPool, n.obj("nosuch")))
			s, says := waiting(t, nil, []*v1beta1.IPAddressPool{pool(n.obj("lan"), []v1beta1.AddressRange{n.cidr()})}, nil, web)
			return s, []string{"has no IP yet.", says,
				"The Service names IPAddressPool " + n.obj("nosuch") + " (" + config.AnnotationAddressPool + "), which does not exist."}
		}},
		{"another loadBalancerClass", func(t *testing.T, n naming) (*scene, []string) {
			web := lbService(n.ns(), "web", func(s *corev1.Service) { s.Spec.LoadBalancerClass = ptr.To("example.com/other-lb") })
			return &scene{services: []*corev1.Service{web}}, []string{`Service ` + n.ns() + `/web has loadBalancerClass "example.com/other-lb"; Herald handles "` +
				kube.DefaultClass + `" and Services without a class, so another implementation serves it.`, "!has no IP yet"}
		}},
	}
}

// announceCases are Services with an IP, and who announces it.
func announceCases() []whyCase {
	return []whyCase{
		{"the Layer 2 winner answers, ranked", func(t *testing.T, n naming) (*scene, []string) {
			s, p := lan(n)
			rank := election.Rank(netip.MustParseAddr(n.ip(1)), n.nodes())
			s.speakers = speakers(n.nodes(), map[string][]hnt.Option{rank[0]: {hnt.Layer2(n.ip(1), "eth0", n.ns()+"/web")}})
			return s, []string{"Service " + n.ns() + "/web has IP " + n.ip(1) + ".", n.ip(1) + " is from IPAddressPool " + p.Name + ".",
				"Layer 2: L2Advertisement " + p.Name + " selects pool " + p.Name + ".", "  node " + n.node(1) + ": eligible.",
				fmt.Sprintf("The election ranks the candidates for %s as %s: %s answers; %s takes over if it goes.", n.ip(1), strings.Join(rank, ", "), rank[0], rank[1]),
				"HeraldNode " + rank[0] + " says it answers for " + n.ip(1) + " on eth0."}
		}},
		{"a node other than the winner answers", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			rank := election.Rank(netip.MustParseAddr(n.ip(1)), n.nodes())
			s.speakers = speakers(n.nodes(), map[string][]hnt.Option{rank[2]: {hnt.Layer2(n.ip(1), "eth0", n.ns()+"/web")}})
			return s, []string{"The election gives " + n.ip(1) + " to " + rank[0] + ", but HeraldNode " + rank[2] + " says it answers:"}
		}},
		{"the advertisement's node selector matches no node", func(t *testing.T, n naming) (*scene, []string) {
			s, p := lan(n)
			s.cluster[0] = l2Adv(p.Name, []string{p.Name}, metav1.LabelSelector{MatchLabels: map[string]string{"rack": "r9"}})
			return s, []string{"  node " + n.node(2) + ": not a candidate: no nodeSelector of those L2Advertisements matches its labels.",
				"No node may answer for " + n.ip(1) + " over Layer 2.", "!The election ranks"}
		}},
		{"a node labelled out of load balancing", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			labelled(plan.LabelExcludeFromLB, "")(s.nodes[1])
			return s, []string{"  node " + n.node(2) + ": not a candidate: labelled " + plan.LabelExcludeFromLB + ".",
				"!as " + n.node(2), "  node " + n.node(1) + ": eligible."}
		}},
		{"a node NotReady for two minutes", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			notReadySince(metav1.NewTime(time.Now().Add(-2 * time.Minute)))(s.nodes[2])
			return s, []string{"  node " + n.node(3) + ": not a candidate: NotReady for more than " + plan.GoneAfter.String() + "."}
		}},
		{"a node cordoned, another tainted out of service", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			cordoned(s.nodes[0])
			tainted(plan.TaintOutOfService)(s.nodes[1])
			return s, []string{"  node " + n.node(1) + ": cordoned, so a candidate only if every other is cordoned too.",
				"  node " + n.node(2) + ": not a candidate: tainted " + plan.TaintOutOfService + ".",
				"as " + n.node(3) + ": " + n.node(3) + " answers; nobody takes over"}
		}},
		{"externalTrafficPolicy Local, the only endpoint on an excluded node", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n, localTraffic)
			s.slices[0] = readyOn(s.explained(), n.node(2))
			labelled(plan.LabelExcludeFromLB, "true")(s.nodes[1])
			return s, []string{"externalTrafficPolicy is Local: only nodes with a ready endpoint may announce it (" + n.node(2) + ").",
				"  node " + n.node(1) + ": not a candidate: no ready endpoint of the Service on it (externalTrafficPolicy Local).",
				"  node " + n.node(2) + ": not a candidate: labelled " + plan.LabelExcludeFromLB + ".",
				"No node may answer for " + n.ip(1) + " over Layer 2."}
		}},
		{"no speaker has written a HeraldNode", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			s.speakers = nil
			return s, []string{"No HeraldNode exists: no speaker runs, or none can write its status (kubectl get pods -n " + kube.Namespace + ").",
				"  node " + n.node(1) + ": not a candidate: no HeraldNode, so its speaker is not running or has never reported."}
		}},
		{"speakers without quorum", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := lan(n)
			s.speakers = nil
			for _, name := range n.nodes() {
				hn := hnt.New(name, hnt.Quorum(1, 3, "1 of 3 known speakers alive: does not claim (no majority)"), hnt.Members(name))
				s.speakers = append(s.speakers, &hn)
			}
			return s, []string{"No speaker's HeraldNode says it has quorum, so no node answers over Layer 2 (kubectl get heraldnodes).",
				"  HeraldNode " + n.node(3) + ": 1 of 3 known speakers alive: does not claim (no majority).", "!The election ranks"}
		}},
		{"a crashed speaker's HeraldNode left behind", func(t *testing.T, n naming) (*scene, []string) {
			// node3's speaker died without deleting its HeraldNode, which
			// still claims; the live speakers see only each other.
			s, _ := lan(n)
			s.speakers = append(speakers(n.nodes()[:2], nil), s.speakers[2])
			return s, []string{"  node " + n.node(3) + ": not a candidate: its speaker is not alive on the majority side", "!as " + n.node(3)}
		}},
		{"BGP announced to the peers", func(t *testing.T, n naming) (*scene, []string) {
			s, p := bgpScene(n, "Established", "")
			return s, []string{"BGP: BGPAdvertisement " + p.Name + " selects pool " + p.Name + ".",
				"Node " + n.node(1) + " advertises it to " + n.obj("tor") + " (" + n.ip(1) + "/32, session Established).",
				"!Layer 2"}
		}},
		{"BGP session down", func(t *testing.T, n naming) (*scene, []string) {
			s, _ := bgpScene(n, "Active", "dial tcp 198.51.100.1:179: connect: connection refused")
			return s, []string{"Node " + n.node(1) + " would advertise it to " + n.obj("tor") + " (" + n.ip(1) + "/32), but the session is Active: dial tcp 198.51.100.1:179: connect: connection refused.",
				"No BGP session that carries " + n.ip(1) + " is Established: no router learns it from Herald.",
				"!advertises it to"}
		}},
	}
}

// bgpScene is pool routed announced over BGP to peer tor, whose session on
// the first node is in state.
func bgpScene(n naming, state, lastError string) (*scene, *v1beta1.IPAddressPool) {
	s := &scene{}
	p := pool(n.obj("routed"), []v1beta1.AddressRange{n.cidr()})
	s.pools = append(s.pools, p)
	s.add(bgpAdv(p.Name, []string{p.Name}), bgpPeer(n.obj("tor"), "198.51.100.1"))
	for _, name := range n.nodes()[:1] {
		s.nodes = append(s.nodes, kubeNode(name))
	}
	s.speakers = speakers(n.nodes()[:1], map[string][]hnt.Option{n.node(1): {hnt.Peer(n.obj("tor"), "198.51.100.1", state, lastError, n.ip(1)+"/32")}})
	web := lbService(n.ns(), "web", allocated(p.Name, n.ip(1)))
	s.services = append(s.services, web)
	s.slices = append(s.slices, readyOn(web, n.node(1)))
	return s, p
}

// whyOf creates the scene, runs heraldctl why on its Service, and returns
// what it says.
func whyOf(t *testing.T, n naming, s *scene) string {
	t.Helper()
	ctx := context.Background()
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n.ns(), Labels: s.nsLabels}})
	for _, o := range append(s.cluster, s.speakers...) {
		create(t, o)
	}
	for _, o := range s.withStatus() {
		createWithStatus(t, o)
	}
	for _, o := range s.slices {
		create(t, o)
	}
	for _, e := range s.events {
		if e.InvolvedObject.Kind == "Service" {
			e.InvolvedObject.UID = s.explained().UID
		}
		create(t, e)
	}
	flags := flagsFor()
	flags.Namespace = ptr.To(n.ns())
	var out bytes.Buffer
	if err := RunWhy(ctx, flags, s.explained().Name, kube.ClassPolicy{Class: kube.DefaultClass, Default: true}, "text", &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// createWithStatus creates o, then writes its status, which the
// apiserver leaves out of a create, as the controller or the kubelet would.
func createWithStatus(t *testing.T, o client.Object) {
	t.Helper()
	withStatus := o.DeepCopyObject().(client.Object)
	create(t, o)
	withStatus.SetResourceVersion(o.GetResourceVersion())
	if err := env.Client.Status().Update(context.Background(), withStatus); err != nil {
		t.Fatalf("write the status of %T %s: %v", o, o.GetName(), err)
	}
}
