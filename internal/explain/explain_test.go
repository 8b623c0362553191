package explain

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
	"github.com/heraldlb/herald/internal/plan"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

const lanIP = "198.51.100.70"

// base is three nodes, pool lan (Layer 2) and pool routed (BGP), three
// speakers that claim, and Service demo/web with lanIP and a ready
// endpoint on every node, answered by the election's winner.
func base() Inputs {
	in := Inputs{
		Handled: true, Class: "heraldlb.io/lb", DefaultClass: true, Namespace: "herald-system", Now: t0,
		Config: config.Objects{
			Pools: []v1beta1.IPAddressPool{
				{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.64/27"}}},
				{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"203.0.113.64/27"}}},
			},
			L2:  []v1beta1.L2Advertisement{{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}}}},
			BGP: []v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Name: "routed"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"routed"}}}},
		},
		Service: corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: lanIP}}}}},
	}
	es := &discoveryv1.EndpointSlice{}
	for _, n := range []string{"node1", "node2", "node3"} {
		in.Nodes = append(in.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}}})
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{NodeName: ptr.To(n)})
		in.Speakers = append(in.Speakers, hnt.New(n, hnt.Quorum(3, 3, "3 of 3 known speakers alive: claims"), hnt.Members("node1", "node2", "node3")))
	}
	in.Endpoints = []*discoveryv1.EndpointSlice{es}
	return in
}

func node(in *Inputs, name string, f func(*corev1.Node)) {
	for i := range in.Nodes {
		if in.Nodes[i].Name == name {
			f(&in.Nodes[i])
		}
	}
}

func TestWhy(t *testing.T) {
	rank := election.Rank(netipMust(lanIP), []string{"node1", "node2", "node3"})
	tests := []struct {
		name   string
		change func(*Inputs)
		want   []string // each must appear in the explanation; one starting with "!" must not
	}{
		{"not a LoadBalancer", func(in *Inputs) { in.Service.Spec.Type = corev1.ServiceTypeClusterIP }, []string{"is of type ClusterIP, not LoadBalancer"}},
		{"another class", func(in *Inputs) { in.Service.Spec.LoadBalancerClass, in.Handled = ptr.To("example.com/other"), false }, []string{`has loadBalancerClass "example.com/other"`}},
		{"no IP, and the controller says why", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.Events = []corev1.Event{{Type: corev1.EventTypeWarning, Reason: "AllocationFailed", Message: "no IPAddressPool has a free address", LastTimestamp: metav1.NewTime(t0)}}
		}, []string{"has no IP yet", "The controller says (AllocationFailed): no IPAddressPool has a free address"}},
		{"no IP, nothing said", func(in *Inputs) { in.Service.Status.LoadBalancer.Ingress = nil }, []string{"has no IP yet", "check that the controller runs"}},
		{"IP in no pool", func(in *Inputs) { in.Service.Status.LoadBalancer.Ingress[0].IP = "198.51.100.200" }, []string{"198.51.100.200 is in no IPAddressPool in force"}},
		{"no ready endpoint", func(in *Inputs) { in.Endpoints = nil }, []string{"from IPAddressPool lan", "No endpoint of the Service is ready"}},
		{"no advertisement", func(in *Inputs) { in.Config.L2 = nil }, []string{"No L2Advertisement or BGPAdvertisement selects pool lan"}},
		{"all eligible", func(in *Inputs) {
			in.Speakers[0] = hnt.New(rank[0], hnt.Quorum(3, 3, "3 of 3 known speakers alive: claims"), hnt.Members("node1", "node2", "node3"),
				hnt.Layer2(lanIP, "eth0", "demo/web"))
		}, []string{"L2Advertisement lan selects pool lan", "node node1: eligible", "ranks the candidates for " + lanIP + " as " + strings.Join(rank, ", ") + ": " + rank[0] + " answers; " + rank[1] + " takes over",
			"HeraldNode " + rank[0] + " says it answers for " + lanIP + " on eth0"}},
		{"excluded", func(in *Inputs) {
			node(in, "node2", func(n *corev1.Node) { n.Labels[plan.LabelExcludeFromLB] = "" })
		}, []string{"node node2: not a candidate: labelled node.kubernetes.io/exclude-from-external-load-balancers"}},
		{"out of service", func(in *Inputs) {
			node(in, "node2", func(n *corev1.Node) {
				n.Spec.Taints = []corev1.Taint{{Key: plan.TaintOutOfService, Effect: corev1.TaintEffectNoExecute}}
			})
		}, []string{"node node2: not a candidate: tainted node.kubernetes.io/out-of-service"}},
		{"NotReady for a minute", func(in *Inputs) {
			node(in, "node3", func(n *corev1.Node) {
				n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))}}
			})
		}, []string{"node node3: not a candidate: NotReady for more than 40s"}},
		{"cordoned", func(in *Inputs) { node(in, "node1", func(n *corev1.Node) { n.Spec.Unschedulable = true }) }, []string{"node node1: cordoned, so a candidate only if every other is cordoned too"}},
		{"local traffic", func(in *Inputs) {
			in.Service.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			in.Endpoints[0].Endpoints = in.Endpoints[0].Endpoints[1:2]
		}, []string{"externalTrafficPolicy is Local: only nodes with a ready endpoint may announce it (node2)", "node node1: not a candidate: no ready endpoint of the Service on it",
			"as node2: node2 answers; nobody takes over"}},
		{"selectors match no node", func(in *Inputs) {
			in.Config.L2[0].Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "9"}}}
		}, []string{"node node1: not a candidate: no nodeSelector of those L2Advertisements matches its labels", "No node may answer for " + lanIP}},
		{"no quorum", func(in *Inputs) {
			for i := range in.Speakers {
				hnt.Quorum(1, 3, "1 of 3 known speakers alive: does not claim (no majority)")(&in.Speakers[i])
			}
		}, []string{"No speaker's HeraldNode says it has quorum", "  HeraldNode node2: 1 of 3 known speakers alive: does not claim (no majority)."}},
		{"a dead speaker", func(in *Inputs) {
			for i := range in.Speakers {
				hnt.Members("node1", "node2")(&in.Speakers[i])
			}
		}, []string{"node node3: not a candidate: its speaker is not alive on the majority side"}},
		{"BGP", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress[0].IP = "203.0.113.70"
			hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.70/32")(&in.Speakers[1])
		}, []string{"from IPAddressPool routed", "BGPAdvertisement routed selects pool routed", "Node node2 advertises it to tor (203.0.113.70/32, session Established)"}},
		{"serviceSelectors leave the Service out of Layer 2", func(in *Inputs) {
			in.Config.L2[0].Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "api"}}}
		}, []string{"Layer 2: L2Advertisement lan selects pool lan, but none selects the Service by its labels (serviceSelectors): " + lanIP + " is not announced this way."}},
		{"serviceSelectors match the Service's labels", func(in *Inputs) {
			in.Config.L2[0].Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "web"}}}
			in.Service.Labels = map[string]string{"app": "web"}
		}, []string{"L2Advertisement lan selects pool lan.", "node node1: eligible"}},
		{"serviceSelectors leave the Service out of BGP", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress[0].IP = "203.0.113.70"
			in.Config.BGP[0].Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "api"}}}
		}, []string{"BGP: BGPAdvertisement routed selects pool routed, but none selects the Service by its labels (serviceSelectors)"}},
		{"the speakers' last word", func(in *Inputs) {
			in.Config.L2[0].Spec.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"rack": "9"}}}
			in.Events = []corev1.Event{{Reason: "NotAnnounced", InvolvedObject: corev1.ObjectReference{Namespace: "demo", Name: "web"},
				Message: lanIP + " is not announced: no node matches the nodeSelectors of L2Advertisement lan", LastTimestamp: metav1.NewTime(t0)}}
		}, []string{"The speakers' last word on it (NotAnnounced): " + lanIP + " is not announced: no node matches"}},
		{"BGP session down", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress[0].IP = "203.0.113.70"
			hnt.Peer("tor", "198.51.100.1", "Active", "connection refused", "203.0.113.70/32")(&in.Speakers[1])
		}, []string{"Node node2 would advertise it to tor (203.0.113.70/32), but the session is Active: connection refused.",
			"No BGP session that carries 203.0.113.70 is Established: no router learns it from Herald.", "!advertises it to"}},
		{"BGP up on one node, down on another", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress[0].IP = "203.0.113.70"
			hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.70/32")(&in.Speakers[0])
			hnt.Peer("tor", "198.51.100.1", "Connect", "", "203.0.113.70/32")(&in.Speakers[1])
		}, []string{"Node node1 advertises it to tor (203.0.113.70/32, session Established).",
			"Node node2 would advertise it to tor (203.0.113.70/32), but the session is Connect.", "!No BGP session that carries"}},
		{"a crashed speaker's HeraldNode left behind", func(in *Inputs) {
			// node3's speaker died without a word: its HeraldNode still
			// claims and lists every node; the live ones see only each other.
			hnt.Members("node1", "node2")(&in.Speakers[0])
			hnt.Members("node1", "node2")(&in.Speakers[1])
		}, []string{"node node3: not a candidate: its speaker is not alive on the majority side", "node node1: eligible."}},
		{"one speaker alone", func(in *Inputs) {
			in.Speakers = in.Speakers[:1]
			hnt.Quorum(1, 2, "1 of 2 known speakers alive: claims (holds the tie-breaker side)")(&in.Speakers[0])
			hnt.Members("node1")(&in.Speakers[0])
		}, []string{"node node1: eligible.", "node node2: not a candidate: no HeraldNode"}},
		{"a node other than the winner answers", func(in *Inputs) {
			hnt.Layer2(lanIP, "eth0", "demo/web")(&in.Speakers[nodeIndex(rank[1])])
		}, []string{"The election gives " + lanIP + " to " + rank[0] + ", but HeraldNode " + rank[1] + " says it answers:"}},
		{"two nodes answer", func(in *Inputs) {
			hnt.Layer2(lanIP, "eth0", "demo/web")(&in.Speakers[nodeIndex(rank[0])])
			hnt.Layer2(lanIP, "eth1", "demo/web")(&in.Speakers[nodeIndex(rank[1])])
		}, []string{"2 HeraldNodes say they answer for " + lanIP + " (", "!The election gives"}},
		{"the winner answers", func(in *Inputs) {
			hnt.Layer2(lanIP, "eth0", "demo/web")(&in.Speakers[nodeIndex(rank[0])])
		}, []string{"HeraldNode " + rank[0] + " says it answers", "!The election gives", "!HeraldNodes say they answer"}},
		{"no HeraldNode at all", func(in *Inputs) { in.Speakers = nil }, []string{
			"No HeraldNode exists: no speaker runs, or none can write its status (kubectl get pods -n herald-system).",
			"node node1: not a candidate: no HeraldNode, so its speaker is not running or has never reported", "!No speaker's HeraldNode says it has quorum"}},
		{"no IP: each pool's verdict", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.Config.Pools[0].Spec.ServiceAllocation = &v1beta1.ServiceAllocation{Namespaces: []string{"team-a"}}
			in.Config.Pools[1].Spec.AutoAssign = ptr.To(false)
		}, []string{"IPAddressPool lan: does not accept the Service: its serviceAllocation allows only namespaces team-a, and the Service is in namespace demo.",
			"IPAddressPool routed: autoAssign is false: it gives addresses only to Services that name it (heraldlb.io/address-pool) or ask for one of its IPs."}},
		{"no IP: a namespaceSelector matches the namespace", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.NamespaceLabels = map[string]string{"team": "a"}
			in.Config.Pools[0].Spec.ServiceAllocation = &v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"team": "a"}}}}
		}, []string{"IPAddressPool lan: accepts the Service."}},
		{"no IP: the annotation names a pool that does not exist", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.Service.Annotations = map[string]string{config.AnnotationAddressPool: "nosuch"}
		}, []string{"The Service names IPAddressPool nosuch (heraldlb.io/address-pool), which does not exist.", "!IPAddressPool lan:"}},
		{"no IP: a pool not in force", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.Config.Pools = append(in.Config.Pools, v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.64/28"}}})
		}, []string{"IPAddressPool other: not in force (", `overlap those of the older pool "lan"`}},
		{"no IP: a pool with no free address", func(in *Inputs) {
			in.Service.Status.LoadBalancer.Ingress = nil
			in.Config.Pools[0].Status.Available = "0"
		}, []string{"IPAddressPool lan: accepts the Service, but its status says no address is free (available 0)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(&in)
			got := strings.Join(Why(in), "\n")
			for _, w := range tt.want {
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

// nodeIndex is the index of node name in base's Nodes and Speakers.
func nodeIndex(name string) int { return int(name[len(name)-1] - '1') }

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }
