package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxListedPrefixes bounds the prefixes a HeraldNode lists per peer, so
// that a node advertising 20,000 routes keeps its object well under the
// apiserver's size limit.
const MaxListedPrefixes = 1024

// Condition types of a HeraldNode.
const (
	// NodeReady: the speaker runs, has quorum and may claim IPs.
	NodeReady = "Ready"
	// NodeAnnouncing: it announces at least one IP, over Layer 2 or BGP.
	NodeAnnouncing = "Announcing"
	// NodeBGPEstablished: every BGP session it opens is established.
	NodeBGPEstablished = "BGPEstablished"
	// NodeConfigurationAccepted: it accepted the whole configuration it
	// was given; when False, the message names each object it left out
	// and why, as MetalLB's ConfigurationState does.
	NodeConfigurationAccepted = "ConfigurationAccepted"
)

// HeraldNodeStatus is what one node's speaker sees and does.
type HeraldNodeStatus struct {
	// StartedAt is when this speaker started: its uptime.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
	// Quorum is how many of the known speakers this one sees alive, and
	// whether it claims IPs.
	// +optional
	Quorum NodeQuorum `json:"quorum,omitempty"`
	// Members are the speakers alive in memberlist, as this node sees them.
	// +optional
	// +listType=set
	Members []string `json:"members,omitempty"`
	// Layer2 lists the IPs this node answers ARP/NDP for.
	// +optional
	// +listType=atomic
	Layer2 []Layer2Announcement `json:"layer2,omitempty"`
	// BGPPeers are the sessions this node opens, or could not open.
	// +optional
	// +listType=atomic
	BGPPeers []NodeBGPPeer `json:"bgpPeers,omitempty"`
	// Layer2IPs counts Layer2; BGPRoutes counts the distinct prefixes
	// sent; PeersUp is "established/sessions". They are for kubectl get.
	// +optional
	Layer2IPs int32 `json:"layer2IPs,omitempty"`
	// +optional
	BGPRoutes int32 `json:"bgpRoutes,omitempty"`
	// +optional
	PeersUp string `json:"peersUp,omitempty"`
	// Conditions are Ready, Announcing, BGPEstablished and
	// ConfigurationAccepted.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NodeQuorum is a speaker's view of the quorum.
type NodeQuorum struct {
	// Alive and Known count the speakers alive in memberlist and those
	// with a valid Lease.
	Alive int32 `json:"alive"`
	Known int32 `json:"known"`
	// Claims: this node has quorum and announces what the election gives
	// it.
	Claims bool `json:"claims"`
	// Reason says why it claims or does not, in a sentence.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// Layer2Announcement is one IP this node answers for.
type Layer2Announcement struct {
	IP string `json:"ip"`
	// Interfaces it answers on.
	// +listType=atomic
	Interfaces []string `json:"interfaces"`
	// Services with this IP, as namespace/name.
	// +optional
	// +listType=atomic
	Services []string `json:"services,omitempty"`
	// Everywhere: no allowed interface has a subnet containing the IP, so
	// the node answers on every usable link.
	// +optional
	Everywhere bool `json:"everywhere,omitempty"`
}

// NodeBGPPeer is one BGP session of this node.
type NodeBGPPeer struct {
	// Name is the BGPPeer's.
	Name string `json:"name"`
	// +optional
	PeerAddress string `json:"peerAddress,omitempty"`
	// State is the session's BGP state (Idle, Connect, Active, OpenSent,
	// OpenConfirm, Established), or NotOpened when the speaker could not
	// open it.
	State string `json:"state"`
	// Since is when the state last changed: while Established, the
	// session's uptime.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// LastError says why the session is not up, or was not opened.
	// +optional
	LastError string `json:"lastError,omitempty"`
	// PrefixesSent counts the prefixes advertised on the session.
	// +optional
	PrefixesSent int32 `json:"prefixesSent,omitempty"`
	// MaxPrefixes is the peer's toAdvertise.maxPrefixes (0: none), and
	// PrefixesWithheld the routes it keeps from the session.
	// +optional
	MaxPrefixes int32 `json:"maxPrefixes,omitempty"`
	// +optional
	PrefixesWithheld int32 `json:"prefixesWithheld,omitempty"`
	// Families are the address families negotiated.
	// +optional
	// +listType=atomic
	Families []string `json:"families,omitempty"`
	// Prefixes are the prefixes this node sends to the peer, the first
	// MaxListedPrefixes of them in order; PrefixesSent counts them all.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1024
	Prefixes []string `json:"prefixes,omitempty"`
}

// HeraldNode is one node's speaker status: its memberlist view and quorum,
// the IPs it answers for, its BGP sessions and routes, and whether it
// accepted the configuration. The node's speaker writes it, and owns all
// of it: it has no spec. It is named after the Node, which owns it, so
// that it goes with the Node.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=hnode,categories=herald
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Alive",type=string,JSONPath=`.status.quorum.alive`
// +kubebuilder:printcolumn:name="Known",type=string,JSONPath=`.status.quorum.known`
// +kubebuilder:printcolumn:name="L2 IPs",type=integer,JSONPath=`.status.layer2IPs`
// +kubebuilder:printcolumn:name="BGP Peers Up",type=string,JSONPath=`.status.peersUp`
// +kubebuilder:printcolumn:name="BGP Routes",type=integer,JSONPath=`.status.bgpRoutes`
// +kubebuilder:printcolumn:name="Config",type=string,JSONPath=`.status.conditions[?(@.type=="ConfigurationAccepted")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HeraldNode struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is written by the node's speaker.
	// +optional
	Status HeraldNodeStatus `json:"status,omitempty"`
}

// HeraldNodeList is a list of HeraldNodes.
//
// +kubebuilder:object:root=true
type HeraldNodeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HeraldNode `json:"items"`
}
