package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AddressRange is a block of addresses: a CIDR such as 198.51.100.0/24 or
// 2001:db8::/64, or an inclusive range of two addresses of one family such as
// 198.51.100.10-198.51.100.20.
//
// The rules accept what MetalLB accepts, and what Herald's parser
// (ipam.ParseRange) accepts; addressrange_cel_test.go runs both on the same
// strings. A CIDR with host bits set is read as its block (198.51.100.7/24
// is 198.51.100.0/24), as MetalLB reads it, and spaces around the addresses
// of a range are ignored. Zones and IPv4-mapped IPv6 addresses are refused.
//
// The order of an IPv4 range is checked here, by comparing the two ends as
// numbers. CEL can neither compare IPv6 addresses nor afford, within the
// apiserver's cost budget, the prefix-by-prefix search that would do it (a
// 3,300-character rule, measured at 1.03 to 1.9 times the budget), so a
// reversed IPv6 range is admitted, and the controller marks its pool
// Ready=False with reason InvalidAddresses; the pool hands out nothing.
//
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=79
// +kubebuilder:validation:XValidation:rule="self.contains('-') ? (size(self.split('-')) == 2 && isIP(self.split('-')[0].trim()) && isIP(self.split('-')[1].trim())) : isCIDR(self)",messageExpression="'address ' + self + ' is malformed: expected a CIDR such as 198.51.100.0/24 or 2001:db8::/64, or a range of two addresses such as 198.51.100.10-198.51.100.20'",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="!self.contains('-') || (size(self.split('-')) != 2 || !isIP(self.split('-')[0].trim()) || !isIP(self.split('-')[1].trim()) || ip(self.split('-')[0].trim()).family() == ip(self.split('-')[1].trim()).family())",messageExpression="'range ' + self + ' mixes IPv4 and IPv6: both ends must be of the same family'",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="!self.contains('-') || self.contains(':') || size(self.split('-')) != 2 || !isIP(self.split('-')[0].trim()) || !isIP(self.split('-')[1].trim()) || int(self.split('-')[0].trim().split('.')[0]) * 16777216 + int(self.split('-')[0].trim().split('.')[1]) * 65536 + int(self.split('-')[0].trim().split('.')[2]) * 256 + int(self.split('-')[0].trim().split('.')[3]) <= int(self.split('-')[1].trim().split('.')[0]) * 16777216 + int(self.split('-')[1].trim().split('.')[1]) * 65536 + int(self.split('-')[1].trim().split('.')[2]) * 256 + int(self.split('-')[1].trim().split('.')[3])",messageExpression="'range ' + self + ' starts after it ends: write the lower address first'",reason=FieldValueInvalid
type AddressRange string

// IPAddressPoolSpec is the set of addresses a pool hands out, and to whom.
type IPAddressPoolSpec struct {
	// Addresses are the blocks this pool allocates from: CIDRs such as
	// 198.51.100.0/24 or 2001:db8::/64, and ranges such as
	// 198.51.100.10-198.51.100.20. IPv4 and IPv6 may be mixed in one pool, which
	// is how a pool serves dual-stack Services.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +listType=set
	Addresses []AddressRange `json:"addresses"`

	// AutoAssign lets Services without an explicit request receive addresses
	// from this pool. When false, the pool is used only by Services that name it
	// in the heraldlb.io/address-pool annotation or request one of its
	// addresses.
	// +kubebuilder:default=true
	// +optional
	AutoAssign *bool `json:"autoAssign,omitempty"`

	// AvoidBuggyIPs skips IPv4 addresses ending in .0 and .255, which some old
	// network equipment drops as broadcast addresses.
	// +kubebuilder:default=false
	// +optional
	AvoidBuggyIPs bool `json:"avoidBuggyIPs,omitempty"`

	// AllowSubnetRouterAnycast lets the pool hand out the first address of
	// each IPv6 CIDR in addresses (2001:db8:: of 2001:db8::/64). By default
	// it does not: that is the Subnet-Router anycast address (RFC 4291
	// section 2.6.1), which the routers of the subnet answer. CIDRs of /127
	// and /128, and a-b ranges, are never affected.
	// +kubebuilder:default=false
	// +optional
	AllowSubnetRouterAnycast bool `json:"allowSubnetRouterAnycast,omitempty"`

	// ServiceAllocation restricts which Services may receive addresses from
	// this pool, and how the pool ranks against others when several match.
	// +optional
	ServiceAllocation *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation pins a pool to some namespaces or Services, and ranks it.
type ServiceAllocation struct {
	// Priority ranks this pool among the pools a Service may use: a lower
	// number is tried first, and a pool without a priority comes after every
	// pool with one. 0 or less means no priority (MetalLB accepts any
	// number; Herald reads a negative one as unset).
	// +optional
	Priority int32 `json:"priority,omitempty"`

	// Namespaces lists the namespaces whose Services may use this pool.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// NamespaceSelectors select, by label, the namespaces whose Services may use
	// this pool. A namespace that is listed in namespaces or matches any
	// selector is allowed.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="each selector must be listed once"
	// +listType=atomic
	// +optional
	NamespaceSelectors []metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// ServiceSelectors select, by label, the Services that may use this pool.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(x, self.exists_one(y, y == x))",message="each selector must be listed once"
	// +listType=atomic
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`
}

// IPAddressPoolStatus reports how much of the pool is in use. Counts are
// decimal strings because an IPv6 pool can hold more than 2^63 addresses.
type IPAddressPoolStatus struct {
	// AssignedIPv4 is the number of IPv4 addresses assigned to Services.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	AssignedIPv4 string `json:"assignedIPv4,omitempty"`

	// AvailableIPv4 is the number of IPv4 addresses still free.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	AvailableIPv4 string `json:"availableIPv4,omitempty"`

	// AssignedIPv6 is the number of IPv6 addresses assigned to Services.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	AssignedIPv6 string `json:"assignedIPv6,omitempty"`

	// AvailableIPv6 is the number of IPv6 addresses still free.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	AvailableIPv6 string `json:"availableIPv6,omitempty"`

	// InUse is the number of addresses assigned, both families together.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	InUse string `json:"inUse,omitempty"`

	// Available is the number of addresses free, both families together.
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +optional
	Available string `json:"available,omitempty"`

	// ObservedGeneration is the generation of the spec these counts and
	// conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready tells whether the pool hands out addresses (False with
	// reason Overlap when it overlaps an older pool), and Deleting how many
	// Services still hold its addresses while deletion waits for them.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// IPAddressPool is a set of addresses that Herald assigns to LoadBalancer
// Services.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ipool;ipp,categories=herald
// +kubebuilder:printcolumn:name="Addresses",type=string,JSONPath=`.spec.addresses`
// +kubebuilder:printcolumn:name="Auto Assign",type=boolean,JSONPath=`.spec.autoAssign`
// +kubebuilder:printcolumn:name="In Use",type=string,JSONPath=`.status.inUse`
// +kubebuilder:printcolumn:name="Available",type=string,JSONPath=`.status.available`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type IPAddressPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the pool's addresses and allocation policy.
	Spec IPAddressPoolSpec `json:"spec"`
	// Status is the pool's usage and health, written by the controller.
	// +optional
	Status IPAddressPoolStatus `json:"status,omitempty"`
}

// IPAddressPoolList is a list of IPAddressPools.
//
// +kubebuilder:object:root=true
type IPAddressPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressPool `json:"items"`
}
