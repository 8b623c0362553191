package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CommunityValue is a BGP community: a standard community written as two
// 16-bit numbers, 65000:100, or a large community written as
// large:1:2:3 with three 32-bit numbers.
//
// +kubebuilder:validation:MaxLength=40
// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{1,5}:[0-9]{1,5}$') ? self.split(':').all(n, int(n) <= 65535) : (self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && self.split(':').all(n, n == 'large' || int(n) <= 4294967295))",messageExpression="'community ' + self + ' is malformed: expected a standard community such as 65000:100 (two numbers from 0 to 65535) or a large community such as large:64500:1:2 (three numbers from 0 to 4294967295)'",reason=FieldValueInvalid
type CommunityValue string

// CommunityOrAlias is a BGP community value (see CommunityValue) or the name
// of an alias defined in a Community object.
//
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{1,5}:[0-9]{1,5}$') ? self.split(':').all(n, int(n) <= 65535) : self.startsWith('large:') ? (self.matches('^large:[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && self.split(':').all(n, n == 'large' || int(n) <= 4294967295)) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",messageExpression="'community ' + self + ' is malformed: expected a standard community such as 65000:100 (two numbers from 0 to 65535), a large community such as large:64500:1:2 (three numbers from 0 to 4294967295), or the name of a Community alias (lower-case letters, digits and dashes)'",reason=FieldValueInvalid
type CommunityOrAlias string

// CommunityAlias gives a BGP community a name.
type CommunityAlias struct {
	// Name is the alias, used in BGPAdvertisement communities in place of the
	// value.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Value is the community the alias stands for.
	Value CommunityValue `json:"value"`
}

// CommunitySpec lists community aliases.
type CommunitySpec struct {
	// Communities are the aliases. Names are unique.
	// +kubebuilder:validation:MaxItems=256
	// +listType=map
	// +listMapKey=name
	// +optional
	Communities []CommunityAlias `json:"communities,omitempty"`
}

// CommunityStatus reports whether the aliases are in force.
type CommunityStatus struct {
	// Conditions: Ready is False when an alias is also defined, with another
	// value, by an older Community object.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Community names BGP communities, so that advertisements can say
// "no-export-upstream" instead of 65535:65281.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=comm,categories=herald
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Community struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the list of aliases.
	// +optional
	Spec CommunitySpec `json:"spec,omitempty"`
	// Status is written by Herald.
	// +optional
	Status CommunityStatus `json:"status,omitempty"`
}

// CommunityList is a list of Community objects.
//
// +kubebuilder:object:root=true
type CommunityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Community `json:"items"`
}
