// Package v1beta1 holds Herald's configuration API, group heraldlb.io: address
// pools, and how their addresses are announced over Layer 2 and BGP.
//
// The kinds and field names follow MetalLB's API so that a MetalLB
// configuration translates one-to-one. Every per-object rule lives in the CRD
// schema (OpenAPI and CEL), so the apiserver itself rejects bad input and no
// admission webhook is needed.
//
// +kubebuilder:object:generate=true
// +groupName=heraldlb.io
package v1beta1
