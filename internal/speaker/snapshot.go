package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/election"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/plan"
)

// snapshot is one read of the informer cache.
type snapshot struct {
	config   config.Announce
	services []plan.Service
	// refs are the Services by key, for Events.
	refs  map[string]*corev1.Service
	nodes []plan.Node
	// selfAddrs are this node's InternalIPs; passwords the BGP passwords
	// from Secrets, unreadable the Secrets the speaker may not read.
	selfAddrs  []netip.Addr
	passwords  map[config.SecretRef]string
	unreadable map[config.SecretRef]bool
	// speakers are the speakers' Leases as the cache holds them; leases
	// are those of them that count and peers the addresses to dial, once
	// sync has judged their expiry (see unexpired).
	speakers []speakerLease
	leases   []election.SpeakerLease
	peers    []netip.AddrPort
	// tie is the tie-breaker Lease, stamped by sync with when this speaker
	// first saw its version, and tieObj the object itself (nil when
	// it does not exist), for optimistic updates.
	tie    election.TieLease
	tieObj *coordinationv1.Lease
}

// sessionKinds are the watched kinds that this node's BGP sessions are
// planned from (plan.Sessions): the configuration and the Nodes, few
// objects beside a large cluster's Services and EndpointSlices.
func sessionKinds() []client.Object {
	return []client.Object{
		&v1beta1.IPAddressPool{}, &v1beta1.L2Advertisement{},
		&v1beta1.BGPAdvertisement{}, &v1beta1.BGPPeer{}, &v1beta1.Community{},
		&corev1.Node{},
	}
}

// watched are the kinds the speaker plans from; a change to any wakes the
// loop. BGP passwords are not among them: each of their Secrets has its own
// watch, by name (passwordWatches).
func watched() []client.Object {
	return append(sessionKinds(), &corev1.Service{}, &discoveryv1.EndpointSlice{}, &coordinationv1.Lease{})
}

// listing is one list from the cache.
type listing struct {
	what string
	list client.ObjectList
	opts []client.ListOption
}

// list reads each listing from the cache. Objects are not copied: nothing
// here modifies them.
func (s *Speaker) list(ctx context.Context, ls ...listing) error {
	for _, l := range ls {
		if err := s.deps.Cache.List(ctx, l.list, append(l.opts, client.UnsafeDisableDeepCopy)...); err != nil {
			return fmt.Errorf("list %s from the cache: %w", l.what, err)
		}
	}
	return nil
}

// take reads everything the plan needs from the cache.
func (s *Speaker) take(ctx context.Context) (snapshot, error) {
	cfg, peers, err := s.readConfig(ctx)
	if err != nil {
		return snapshot{}, err
	}
	var (
		svcs   corev1.ServiceList
		eps    discoveryv1.EndpointSliceList
		nodes  corev1.NodeList
		leases coordinationv1.LeaseList
	)
	err = s.list(ctx,
		listing{"Services", &svcs, nil},
		listing{"EndpointSlices", &eps, nil},
		listing{"Nodes", &nodes, nil},
		listing{"Leases", &leases, []client.ListOption{client.InNamespace(kube.Namespace)}},
	)
	if err != nil {
		return snapshot{}, err
	}
	snap := snapshot{config: cfg}
	// BGP passwords come only from Herald's namespace, and only from the
	// Secrets BGPPeers name: the speaker may read no others.
	s.pw.want(ctx, config.PasswordSecrets(peers, kube.Namespace))
	snap.passwords, snap.unreadable = s.pw.passwords()
	snap.services, snap.refs = servicesOf(svcs.Items, eps.Items, s.opts.Class)
	snap.nodes, snap.selfAddrs = s.nodes(nodes.Items)
	for i := range leases.Items {
		if l := &leases.Items[i]; l.Name == TieBreakerLease {
			snap.tieObj, snap.tie = l, tieOf(l)
		}
	}
	snap.speakers = speakerLeases(leases.Items)
	return snap, nil
}

// readConfig reads the configuration from the cache, validated, and the
// BGPPeers, whose Secrets hold the passwords.
func (s *Speaker) readConfig(ctx context.Context) (config.Announce, []v1beta1.BGPPeer, error) {
	objs, err := kube.ListConfig(ctx, s.deps.Cache, client.UnsafeDisableDeepCopy)
	if err != nil {
		return config.Announce{}, nil, fmt.Errorf("read the configuration from the cache: %w", err)
	}
	return config.Announcements(objs), objs.Peers, nil
}

// servicesOf reads the Services of class that have IPs, with their
// EndpointSlices, as the plan takes them, and the Services by key, for
// Events.
func servicesOf(svcs []corev1.Service, eps []discoveryv1.EndpointSlice, class kube.ClassPolicy) ([]plan.Service, map[string]*corev1.Service) {
	bySvc := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for i := range eps {
		es := &eps[i]
		if name := es.Labels[discoveryv1.LabelServiceName]; name != "" {
			k := types.NamespacedName{Namespace: es.Namespace, Name: name}
			bySvc[k] = append(bySvc[k], es)
		}
	}
	var out []plan.Service
	refs := map[string]*corev1.Service{}
	for i := range svcs {
		svc := &svcs[i]
		ips := config.IngressIPs(svc)
		if len(ips) == 0 || !class.Handles(svc) {
			continue
		}
		ps := plan.ServiceFrom(svc, ips, bySvc[types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}])
		out = append(out, ps)
		refs[ps.Key] = svc
	}
	return out, refs
}

// nodes are the Nodes as the plan takes them, and this node's InternalIPs.
func (s *Speaker) nodes(nodes []corev1.Node) ([]plan.Node, []netip.Addr) {
	var out []plan.Node
	var self []netip.Addr
	for i := range nodes {
		n := &nodes[i]
		out = append(out, plan.NodeFrom(n))
		if n.Name == s.opts.Node {
			self = internalIPs(n)
		}
	}
	return out, self
}

// speakerLeases are the speakers' Leases among leases, in their order.
func speakerLeases(leases []coordinationv1.Lease) []speakerLease {
	var out []speakerLease
	for i := range leases {
		l := &leases[i]
		if l.Name == TieBreakerLease || l.Labels[LabelComponent] != componentValue || l.Spec.HolderIdentity == nil {
			continue
		}
		sl := speakerLease{SpeakerLease: speakerLeaseOf(l)}
		if ap, err := netip.ParseAddrPort(l.Annotations[AnnotationMemberlistAddr]); err == nil {
			sl.Addr = ap
		}
		out = append(out, sl)
	}
	return out
}

func speakerLeaseOf(l *coordinationv1.Lease) election.SpeakerLease {
	out := election.SpeakerLease{Node: *l.Spec.HolderIdentity}
	if l.Spec.RenewTime != nil {
		out.Renewed = l.Spec.RenewTime.Time
	}
	if l.Spec.LeaseDurationSeconds != nil {
		out.Duration = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return out
}

func tieOf(l *coordinationv1.Lease) election.TieLease {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return election.TieLease{}
	}
	sl := speakerLeaseOf(l)
	t := election.TieLease{Holder: sl.Node, Version: l.ResourceVersion, Duration: sl.Duration}
	if side := l.Annotations[AnnotationSide]; side != "" {
		t.Side = strings.Split(side, ",")
	}
	return t
}

// internalIPs are a Node's InternalIP addresses, in the kubelet's order.
func internalIPs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// cachedLeases are the other speakers' Leases in the cache now.
func (s *Speaker) cachedLeases() ([]election.SpeakerLease, error) {
	var list coordinationv1.LeaseList
	if err := s.deps.Cache.List(context.Background(), &list, client.InNamespace(kube.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list Leases from the cache: %w", err)
	}
	var out []election.SpeakerLease
	for _, l := range speakerLeases(list.Items) {
		if l.Node != s.opts.Node {
			out = append(out, l.SpeakerLease)
		}
	}
	return out, nil
}
