package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AddressRange is a block of addresses: a CIDR such as 198.51.100.0/24 or
// 2001:db8::/64, or an inclusive range of two addresses of one family such as
// 198.51.100.10-198.51.100.20.
//
// The order rule compares zero-padded canonical forms as strings, because CEL
// has no ordering on IP addresses.
//
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=79
// +kubebuilder:validation:XValidation:rule="self.contains('-') ? (size(self.split('-')) == 2 && isIP(self.split('-')[0]) && isIP(self.split('-')[1])) : isCIDR(self)",messageExpression="'address ' + self + ' is malformed: expected a CIDR such as 198.51.100.0/24 or 2001:db8::/64, or a range of two addresses such as 198.51.100.10-198.51.100.20'",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="self.contains('-') || !isCIDR(self) || cidr(self) == cidr(self).masked()",messageExpression="'CIDR ' + self + ' has host bits set: its address must be the first of the block, such as 198.51.100.0/24 rather than 198.51.100.7/24'",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="!self.contains('-') || size(self.split('-')) != 2 || !isIP(self.split('-')[0]) || !isIP(self.split('-')[1]) || ip(self.split('-')[0]).family() == ip(self.split('-')[1]).family()",messageExpression="'range ' + self + ' mixes IPv4 and IPv6: both ends must be of the same family'",reason=FieldValueInvalid
// +kubebuilder:validation:XValidation:rule="!self.contains('-') || size(self.split('-')) != 2 || !isIP(self.substring(0, self.indexOf('-'))) || !isIP(self.substring(self.indexOf('-') + 1)) || ip(self.substring(0, self.indexOf('-'))).family() != ip(self.substring(self.indexOf('-') + 1)).family() || ip(self.substring(0, self.indexOf('-'))) == ip(self.substring(self.indexOf('-') + 1)) || (ip(self.substring(0, self.indexOf('-'))).family() == 4 ? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31'] : ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79', '80', '81', '82', '83', '84', '85', '86', '87', '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99', '100', '101', '102', '103', '104', '105', '106', '107', '108', '109', '110', '111', '112', '113', '114', '115', '116', '117', '118', '119', '120', '121', '122', '123', '124', '125', '126', '127']).exists(p, cidr(self.substring(0, self.indexOf('-')) + '/' + p).containsIP(self.substring(self.indexOf('-') + 1)) && !cidr(self.substring(0, self.indexOf('-')) + '/' + ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79', '80', '81', '82', '83', '84', '85', '86', '87', '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99', '100', '101', '102', '103', '104', '105', '106', '107', '108', '109', '110', '111', '112', '113', '114', '115', '116', '117', '118', '119', '120', '121', '122', '123', '124', '125', '126', '127', '128'][int(p) + 1]).containsIP(self.substring(self.indexOf('-') + 1)) && cidr(self.substring(0, self.indexOf('-')) + '/' + ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79', '80', '81', '82', '83', '84', '85', '86', '87', '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99', '100', '101', '102', '103', '104', '105', '106', '107', '108', '109', '110', '111', '112', '113', '114', '115', '116', '117', '118', '119', '120', '121', '122', '123', '124', '125', '126', '127', '128'][int(p) + 1]).masked().ip() == cidr(self.substring(0, self.indexOf('-')) + '/' + p).masked().ip())",messageExpression="'range ' + self + ' starts after it ends: write the lower address first'",reason=FieldValueInvalid
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

	// ServiceAllocation restricts which Services may receive addresses from
	// this pool, and how the pool ranks against others when several match.
	// +optional
	ServiceAllocation *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation pins a pool to some namespaces or Services, and ranks it.
type ServiceAllocation struct {
	// Priority ranks this pool among the pools a Service may use: a lower
	// number is tried first, and a pool without a priority comes after every
	// pool with one.
	// +kubebuilder:validation:Minimum=0
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
	// +listType=atomic
	// +optional
	NamespaceSelectors []metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// ServiceSelectors select, by label, the Services that may use this pool.
	// +kubebuilder:validation:MaxItems=16
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
