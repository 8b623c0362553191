package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ASN is a BGP autonomous system number. 0 and 4294967295 are reserved.
//
// +kubebuilder:validation:Minimum=1
// +kubebuilder:validation:Maximum=4294967294
type ASN int64

// SecretRef names a Secret of type kubernetes.io/basic-auth whose password
// key holds the TCP MD5 password of a BGP session.
type SecretRef struct {
	// Name is the Secret's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace is the Secret's namespace. The speaker may read Secrets only
	// in Herald's own namespace.
	// +kubebuilder:default=herald-system
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// AddressFamily is an address family a BGP session carries: unicast
// routes of IPv4 or of IPv6.
//
// +kubebuilder:validation:Enum=IPv4;IPv6
type AddressFamily string

// The address families.
const (
	AddressFamilyIPv4 AddressFamily = "IPv4"
	AddressFamilyIPv6 AddressFamily = "IPv6"
)

// PrefixLimits bound what a session advertises.
type PrefixLimits struct {
	// MaxPrefixes is the most prefixes the session advertises, as FRR's
	// neighbor maximum-prefix-out. The rest are withheld, counted in
	// herald_bgp_prefixes_withheld, and a warning is logged from 80%.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	// +optional
	MaxPrefixes *int32 `json:"maxPrefixes,omitempty"`
}

// BGPPeerSpec is one BGP session that matching nodes open to a router.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.disableMP) && self.disableMP && has(self.dualStackAddressFamily) && self.dualStackAddressFamily)",message="disableMP: true keeps each family on the session of its own family, which contradicts dualStackAddressFamily: true: set one of them"
// +kubebuilder:validation:XValidation:rule="!has(self.addressFamilies) || (!has(self.dualStackAddressFamily) && !(has(self.disableMP) && self.disableMP))",message="addressFamilies lists the session's families itself: do not combine it with dualStackAddressFamily or disableMP"
// +kubebuilder:validation:XValidation:rule="has(self.peerASN) != has(self.dynamicASN)",message="set exactly one of peerASN (a fixed ASN) and dynamicASN (internal or external)"
// +kubebuilder:validation:XValidation:rule="!(has(self.password) && has(self.passwordSecret))",message="password and passwordSecret are mutually exclusive: set at most one"
// +kubebuilder:validation:XValidation:rule="!has(self.holdTime) || duration(self.holdTime) == duration('0s') || duration(self.holdTime) >= duration('3s')",message="holdTime must be 0 (no keepalives) or at least 3s, as BGP requires"
// +kubebuilder:validation:XValidation:rule="!has(self.keepaliveTime) || !has(self.holdTime) || duration(self.keepaliveTime) <= duration(self.holdTime)",message="keepaliveTime must not be greater than holdTime"
// +kubebuilder:validation:XValidation:rule="!has(self.ebgpMultiHop) || !self.ebgpMultiHop || (has(self.peerASN) ? self.peerASN != self.myASN : self.dynamicASN != 'internal')",message="ebgpMultiHop is for eBGP peers: this peer is iBGP (its ASN is myASN)"
type BGPPeerSpec struct {
	// MyASN is the ASN the node speaks as.
	MyASN ASN `json:"myASN"`

	// PeerASN is the ASN the router is expected to speak as. Exactly one of
	// peerASN and dynamicASN is set.
	// +optional
	PeerASN *ASN `json:"peerASN,omitempty"`

	// DynamicASN accepts any ASN from the router: "internal" for iBGP (the
	// router's ASN equals myASN) or "external" for eBGP.
	// +kubebuilder:validation:Enum=internal;external
	// +optional
	DynamicASN string `json:"dynamicASN,omitempty"`

	// PeerAddress is the router's address.
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",messageExpression="'peerAddress ' + self + ' is not an IP address such as 198.51.100.1 or 2001:db8::1'"
	PeerAddress string `json:"peerAddress"`

	// PeerPort is the router's TCP port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=179
	// +optional
	PeerPort int32 `json:"peerPort,omitempty"`

	// SourceAddress is the local address the session is opened from. Without
	// it, the kernel chooses.
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",messageExpression="'sourceAddress ' + self + ' is not an IP address such as 198.51.100.10'"
	// +optional
	SourceAddress string `json:"sourceAddress,omitempty"`

	// HoldTime is the BGP hold time proposed to the router: 0, or at least
	// 3s.
	// +kubebuilder:default="90s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +optional
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the interval between keepalives; at most holdTime.
	// Without it, a third of holdTime.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +optional
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// ConnectTime is how long to wait between attempts to connect to the
	// router: whole seconds, from 1s to 65535s.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('65535s') && duration(self).getMilliseconds() % 1000 == 0",message="connectTime must be whole seconds, from 1s to 65535s"
	// +optional
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// RouterID is the BGP router ID, an IPv4 address. Without it, the node's
	// IPv4 address.
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 4",messageExpression="'routerID ' + self + ' is not an IPv4 address such as 198.51.100.10'"
	// +optional
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors limit the nodes that open this session. Without it, every
	// node does.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="each selector must be listed once"
	// +listType=atomic
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// Password is the TCP MD5 password, in clear text. Prefer passwordSecret.
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:XValidation:rule="!self.matches('[\\r\\n]')",message="password must not contain a line break"
	// +optional
	Password string `json:"password,omitempty"`

	// PasswordSecret names a Secret holding the TCP MD5 password.
	// +optional
	PasswordSecret *SecretRef `json:"passwordSecret,omitempty"`

	// EBGPMultiHop allows the eBGP router to be more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// AddressFamilies restricts the session to these families, for
	// example [IPv4]. It overrides dualStackAddressFamily and disableMP,
	// and may not be combined with them.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	// +listType=set
	// +optional
	AddressFamilies []AddressFamily `json:"addressFamilies,omitempty"`

	// DualStackAddressFamily, MetalLB's field: true carries both IPv4 and
	// IPv6 unicast on the session, false only the family of peerAddress.
	// Unset, as true: Herald's default (docs/bgp.md says why).
	// +optional
	DualStackAddressFamily *bool `json:"dualStackAddressFamily,omitempty"`

	// DisableMP, MetalLB's field: true sends IPv4 prefixes only over
	// sessions to IPv4 peers and IPv6 prefixes only to IPv6 peers, with no
	// multiprotocol session carrying the other family.
	// +optional
	DisableMP bool `json:"disableMP,omitempty"`

	// ToAdvertise limits what the session advertises.
	// +optional
	ToAdvertise *PrefixLimits `json:"toAdvertise,omitempty"`

	// EnableGracefulRestart keeps the router's routes while the speaker
	// restarts. It cannot be changed once set: the session would have to
	// be reset to renegotiate it.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="enableGracefulRestart cannot be changed: delete and create the peer"
	// +optional
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`
}

// BGPPeerStatus reports the session's state.
type BGPPeerStatus struct {
	// Conditions: Ready, written by the controller, is False when the spec
	// cannot be used. A missing or malformed password Secret is reported by
	// each speaker, in its HeraldNode's ConfigurationAccepted condition.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// BGPPeer is a router that matching nodes open BGP sessions to.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=bgpp,categories=herald
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="My ASN",type=integer,JSONPath=`.spec.myASN`
// +kubebuilder:printcolumn:name="Peer ASN",type=integer,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.peerPort`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the session's parameters.
	Spec BGPPeerSpec `json:"spec"`
	// Status is written by Herald.
	// +optional
	Status BGPPeerStatus `json:"status,omitempty"`
}

// BGPPeerList is a list of BGPPeers.
//
// +kubebuilder:object:root=true
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}
