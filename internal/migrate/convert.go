// Package migrate turns a MetalLB configuration into Herald's: the same
// pools, advertisements, peers and communities under heraldlb.io, with every
// field Herald cannot honour named in a finding instead of dropped.
//
// It is pure: objects in, objects and findings out. Reading the cluster and
// applying the result is the job of the CLI (internal/cli/migrate).
package migrate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
)

// MetalLBGroup is the API group of MetalLB's configuration.
const MetalLBGroup = "metallb.io"

// HeraldNamespace is where Herald's speaker reads BGP password Secrets.
const HeraldNamespace = "herald-system"

// Severity says what a finding means for the migrated configuration.
type Severity string

const (
	// Unsupported: Herald has no such feature yet; the field or object is
	// not migrated, and the behaviour it gave is lost.
	Unsupported Severity = "Unsupported"
	// Differs: migrated, but Herald behaves differently; read the message.
	Differs Severity = "Differs"
	// Action: migrated, once the user (or the migration) does something.
	Action Severity = "Action"
	// Invalid: the object cannot be migrated as it is.
	Invalid Severity = "Invalid"
)

// Finding is one thing the user must know about the migration.
type Finding struct {
	Severity Severity
	// Object is kind/namespace/name of the MetalLB object.
	Object string
	// Field is the field's path in the MetalLB object ("" for the whole
	// object).
	Field   string
	Message string
}

func (f Finding) String() string {
	where := f.Object
	if f.Field != "" {
		where += " " + f.Field
	}
	return fmt.Sprintf("%s: %s: %s", f.Severity, where, f.Message)
}

// Object is a Herald API object (Object, without the client).
type Object interface {
	metav1.Object
	runtime.Object
}

// SecretCopy is a BGP password Secret to copy into Herald's namespace,
// because the speaker reads Secrets only there.
type SecretCopy struct {
	From, To types.NamespacedName
}

// Result is the Herald configuration a MetalLB one becomes.
type Result struct {
	// Objects are the Herald objects to create, sorted by kind and name.
	Objects  []Object
	Secrets  []SecretCopy
	Findings []Finding
}

// kind says how one MetalLB kind becomes Herald's.
type kind struct {
	// new returns an empty Herald object of the kind, and where its spec is.
	new func() (Object, any)
	// unsupported are the spec fields Herald does not have, with what
	// dropping them means.
	unsupported map[string]string
	// check adds what differs between MetalLB and Herald for a spec.
	check func(obj *unstructured.Unstructured, spec map[string]any, into Object, r *Result)
}

// kinds are the MetalLB kinds that carry configuration. ServiceL2Status and
// ServiceBGPStatus are MetalLB's reports, not configuration.
var kinds = map[string]kind{
	"IPAddressPool":    {new: func() (Object, any) { o := &v1beta1.IPAddressPool{}; return o, &o.Spec }},
	"L2Advertisement":  {new: func() (Object, any) { o := &v1beta1.L2Advertisement{}; return o, &o.Spec }},
	"BGPAdvertisement": {new: func() (Object, any) { o := &v1beta1.BGPAdvertisement{}; return o, &o.Spec }},
	"Community":        {new: func() (Object, any) { o := &v1beta1.Community{}; return o, &o.Spec }},
	"BGPPeer": {
		new: func() (Object, any) { o := &v1beta1.BGPPeer{}; return o, &o.Spec },
		unsupported: map[string]string{
			"bfdProfile": "Herald has no BFD: the session fails over on its hold time instead (see docs/bfd.md)",
			"vrf":        "Herald does not open sessions in a VRF: the session would use the default VRF, so the peer is not migrated",
			"interface":  "Herald does not peer unnumbered over an interface's link-local address: the peer is not migrated",
		},
		check: checkPeer,
	},
}

// dropsObject are unsupported fields without which the object would do
// something else than the user configured; the object is not migrated.
var dropsObject = map[string]bool{"vrf": true, "interface": true}

// Convert turns MetalLB objects into Herald's. Objects of other groups or
// kinds are ignored, except BFDProfiles, which are reported.
func Convert(objs []unstructured.Unstructured) Result {
	var r Result
	seen := map[string]string{}
	for i := range objs {
		obj := &objs[i]
		gvk := obj.GroupVersionKind()
		if gvk.Group != MetalLBGroup {
			continue
		}
		if gvk.Kind == "BFDProfile" {
			r.add(Unsupported, obj, "", "Herald has no BFD; BGPPeers that name this profile fail over on their hold time instead")
			continue
		}
		k, ok := kinds[gvk.Kind]
		if !ok {
			continue
		}
		// Herald's objects are cluster-scoped: a name used in two MetalLB
		// namespaces cannot be migrated twice.
		id := gvk.Kind + "/" + obj.GetName()
		if prev, dup := seen[id]; dup {
			r.add(Invalid, obj, "", fmt.Sprintf("Herald's %s objects are cluster-scoped and %s already takes the name", gvk.Kind, prev))
			continue
		}
		seen[id] = ref(obj)
		if out := convert(obj, k, &r); out != nil {
			r.Objects = append(r.Objects, out)
		}
	}
	slices.SortFunc(r.Objects, func(a, b Object) int {
		ka, kb := a.GetObjectKind().GroupVersionKind().Kind, b.GetObjectKind().GroupVersionKind().Kind
		return cmp.Or(cmp.Compare(ka, kb), cmp.Compare(a.GetName(), b.GetName()))
	})
	return r
}

// convert turns one object; nil means it is not migrated (and a finding
// says why).
func convert(obj *unstructured.Unstructured, k kind, r *Result) Object {
	spec, _, err := unstructured.NestedMap(obj.Object, "spec")
	if err != nil {
		r.add(Invalid, obj, "spec", err.Error())
		return nil
	}
	keep := map[string]any{}
	for field, v := range spec {
		why, bad := k.unsupported[field]
		if !bad {
			keep[field] = v
			continue
		}
		r.add(Unsupported, obj, "spec."+field, why)
		if dropsObject[field] {
			return nil
		}
	}
	out, into := k.new()
	if err := decodeStrict(keep, into); err != nil {
		r.add(Invalid, obj, "spec", "does not fit Herald's "+obj.GetKind()+": "+err.Error())
		return nil
	}
	out.GetObjectKind().SetGroupVersionKind(v1beta1.GroupVersion.WithKind(obj.GetKind()))
	out.SetName(obj.GetName())
	out.SetLabels(obj.GetLabels())
	out.SetAnnotations(map[string]string{"heraldlb.io/migrated-from": ref(obj)})
	if k.check != nil {
		k.check(obj, spec, out, r)
	}
	return out
}

// decodeStrict decodes through JSON so that a field Herald does not know,
// in any MetalLB version, fails loudly rather than vanishing.
func decodeStrict(in map[string]any, into any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// checkPeer covers what a BGPPeer means differently in Herald.
func checkPeer(obj *unstructured.Unstructured, spec map[string]any, into Object, r *Result) {
	peer := into.(*v1beta1.BGPPeer)
	if s := peer.Spec.PasswordSecret; s != nil {
		from := types.NamespacedName{Namespace: cmp.Or(s.Namespace, obj.GetNamespace()), Name: s.Name}
		to := types.NamespacedName{Namespace: HeraldNamespace, Name: s.Name}
		s.Namespace = HeraldNamespace
		r.Secrets = append(r.Secrets, SecretCopy{From: from, To: to})
		r.add(Action, obj, "spec.passwordSecret", fmt.Sprintf("Herald's speaker reads Secrets only in %s: the Secret %s is copied to %s", HeraldNamespace, from, to))
	}
	peerFamilies(obj, &peer.Spec, r)
}

// peerFamilies keeps a peer's address families as MetalLB had them.
// MetalLB's default is the session's own family only, Herald's is both, so
// an unset dualStackAddressFamily is written out as false. MetalLB now
// ignores disableMP in favour of dualStackAddressFamily, and Herald's CEL
// rules refuse the two set true together: dualStackAddressFamily wins.
func peerFamilies(obj *unstructured.Unstructured, spec *v1beta1.BGPPeerSpec, r *Result) {
	if spec.DualStackAddressFamily == nil {
		spec.DualStackAddressFamily = ptr.To(false)
		return
	}
	if *spec.DualStackAddressFamily && spec.DisableMP {
		spec.DisableMP = false
		r.add(Differs, obj, "spec.disableMP", "disableMP: true contradicts dualStackAddressFamily: true, which MetalLB honours instead; Herald's peer carries both families, without disableMP")
	}
}

func (r *Result) add(s Severity, obj *unstructured.Unstructured, field, msg string) {
	r.Findings = append(r.Findings, Finding{Severity: s, Object: ref(obj), Field: field, Message: msg})
}

func ref(obj *unstructured.Unstructured) string {
	return strings.Join([]string{obj.GetKind(), obj.GetNamespace(), obj.GetName()}, "/")
}
