package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types and reasons of a ServiceAnnouncement.
const (
	// ServiceAnnounced: every IP of the Service is announced by some node.
	ServiceAnnounced = "Announced"
	// ReasonAnnounced: Announced is True.
	ReasonAnnounced = "Announced"
	// ReasonWaitingForAnnouncer: an IP has had no announcer for less than
	// the grace period, as during a failover; no Event is sent yet.
	ReasonWaitingForAnnouncer = "WaitingForAnnouncer"
	// ReasonNoAnnouncer: an IP has had no announcer for longer than the
	// grace period; a NoAnnouncer warning Event went to the Service.
	ReasonNoAnnouncer = "NoAnnouncer"
)

// Protocols of an AnnouncedIP.
const (
	ProtocolLayer2 = "layer2"
	ProtocolBGP    = "bgp"
)

// ServiceAnnouncementStatus is who announces a Service's IPs, as the
// speakers report it in their HeraldNodes.
type ServiceAnnouncementStatus struct {
	// IPs has one entry per IP and protocol that some node announces, and
	// one with no nodes for an IP that nobody announces.
	// +optional
	// +listType=atomic
	IPs []AnnouncedIP `json:"ips,omitempty"`
	// IPList, Layer2Nodes, BGPNodes and Peers sum IPs up for kubectl get:
	// the IPs, the nodes answering ARP/NDP, the nodes with an established
	// BGP session sending a route for an IP, and "established/sessions".
	// +optional
	IPList string `json:"ipList,omitempty"`
	// +optional
	Layer2Nodes string `json:"layer2Nodes,omitempty"`
	// +optional
	BGPNodes string `json:"bgpNodes,omitempty"`
	// +optional
	Peers string `json:"peers,omitempty"`
	// Conditions has Announced.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AnnouncedIP is how one IP of the Service is announced over one protocol.
type AnnouncedIP struct {
	IP string `json:"ip"`
	// Protocol is layer2 or bgp; empty when nobody announces the IP.
	// +optional
	Protocol string `json:"protocol,omitempty"`
	// Nodes announce the IP: for layer2 the one answering ARP/NDP, for bgp
	// those with an established session sending a route that covers it.
	// +optional
	// +listType=atomic
	Nodes []string `json:"nodes,omitempty"`
	// Interfaces are the layer2 node's interfaces it answers on.
	// +optional
	// +listType=atomic
	Interfaces []string `json:"interfaces,omitempty"`
	// Peers are the BGP sessions sending a route that covers the IP.
	// +optional
	// +listType=atomic
	Peers []AnnouncingPeer `json:"peers,omitempty"`
	// PreviousNodes, while no node announces the IP over this protocol any
	// more, are the nodes that last did: a failover then reads "now node2
	// (was node1)" even when node1 stopped before node2 began.
	// +optional
	// +listType=atomic
	PreviousNodes []string `json:"previousNodes,omitempty"`
}

// AnnouncingPeer is one node's BGP session that sends a route for the IP.
type AnnouncingPeer struct {
	Node string `json:"node"`
	// Peer is the BGPPeer's name.
	Peer string `json:"peer"`
	// +optional
	PeerAddress string `json:"peerAddress,omitempty"`
	// State is the session's BGP state, as in the node's HeraldNode.
	State string `json:"state"`
	// Prefix is the route sent: the IP itself or an aggregate.
	Prefix string `json:"prefix"`
}

// ServiceAnnouncement says which nodes announce a Service's IPs, over which
// protocol and to which BGP peers. The leader controller writes it from the
// HeraldNodes, and owns all of it: it has no spec. It is named after the
// Service, which owns it, so that it goes with the Service.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=svcann,categories=herald
// +kubebuilder:printcolumn:name="IPs",type=string,JSONPath=`.status.ipList`
// +kubebuilder:printcolumn:name="L2 Node",type=string,JSONPath=`.status.layer2Nodes`
// +kubebuilder:printcolumn:name="BGP Nodes",type=string,JSONPath=`.status.bgpNodes`
// +kubebuilder:printcolumn:name="Peers",type=string,JSONPath=`.status.peers`
// +kubebuilder:printcolumn:name="Announced",type=string,JSONPath=`.status.conditions[?(@.type=="Announced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServiceAnnouncement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is written by the leader controller.
	// +optional
	Status ServiceAnnouncementStatus `json:"status,omitempty"`
}

// ServiceAnnouncementList is a list of ServiceAnnouncements.
//
// +kubebuilder:object:root=true
type ServiceAnnouncementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceAnnouncement `json:"items"`
}
