// Package heraldnodetest builds HeraldNode objects for tests, with small
// options instead of literals.
package heraldnodetest

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Option changes a HeraldNode being built.
type Option func(*v1beta1.HeraldNode)

// New returns node's HeraldNode with opts applied.
func New(node string, opts ...Option) v1beta1.HeraldNode {
	n := v1beta1.HeraldNode{ObjectMeta: metav1.ObjectMeta{Name: node}}
	for _, o := range opts {
		o(&n)
	}
	return n
}

// Quorum sets the quorum; claims is read from the sentence, as the
// speaker writes both.
func Quorum(alive, known int32, sentence string) Option {
	return func(n *v1beta1.HeraldNode) {
		_, verdict, _ := strings.Cut(sentence, ": ")
		n.Status.Quorum = v1beta1.NodeQuorum{Alive: alive, Known: known, Reason: sentence, Claims: strings.HasPrefix(verdict, "claims")}
		status := metav1.ConditionFalse
		if n.Status.Quorum.Claims {
			status = metav1.ConditionTrue
		}
		setCondition(n, metav1.Condition{Type: v1beta1.NodeReady, Status: status, Reason: "Test", Message: sentence, LastTransitionTime: metav1.Unix(1e9, 0)})
	}
}

// Members sets the memberlist members it sees.
func Members(names ...string) Option {
	return func(n *v1beta1.HeraldNode) { n.Status.Members = names }
}

// Layer2 adds an IP it answers for on iface.
func Layer2(ip, iface string, services ...string) Option {
	return func(n *v1beta1.HeraldNode) {
		n.Status.Layer2 = append(n.Status.Layer2, v1beta1.Layer2Announcement{IP: ip, Interfaces: []string{iface}, Services: services})
		n.Status.Layer2IPs = int32(len(n.Status.Layer2))
	}
}

// Peer adds a session in state, sending prefixes.
func Peer(name, addr, state, lastError string, prefixes ...string) Option {
	return func(n *v1beta1.HeraldNode) {
		p := v1beta1.NodeBGPPeer{Name: name, PeerAddress: addr, State: state, LastError: lastError, Prefixes: prefixes}
		if state == "Established" {
			p.PrefixesSent = int32(len(prefixes))
		}
		n.Status.BGPPeers = append(n.Status.BGPPeers, p)
	}
}

// NotOpened adds a session the speaker could not open, and why.
func NotOpened(name, why string) Option {
	return func(n *v1beta1.HeraldNode) {
		n.Status.BGPPeers = append(n.Status.BGPPeers, v1beta1.NodeBGPPeer{Name: name, State: "NotOpened", LastError: why})
	}
}

func setCondition(n *v1beta1.HeraldNode, c metav1.Condition) {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == c.Type {
			n.Status.Conditions[i] = c
			return
		}
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
}
