package migrate

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/api/v1beta1"
)

// metallb parses MetalLB objects written as YAML documents.
func metallb(t *testing.T, docs ...string) []unstructured.Unstructured {
	t.Helper()
	var out []unstructured.Unstructured
	for _, d := range docs {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func TestConvert(t *testing.T) {
	objs := metallb(t, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: public, namespace: metallb-system, labels: {tier: edge}}
spec:
  addresses: [198.51.100.0/26, 2001:db8::/120]
  autoAssign: false
  avoidBuggyIPs: true
  serviceAllocation: {priority: 10, namespaces: [web], serviceSelectors: [{matchLabels: {app: web}}]}`, `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [public], interfaces: [eth0], nodeSelectors: [{matchLabels: {rack: a}}]}`, `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec: {ipAddressPools: [public], aggregationLength: 32, localPref: 100, communities: [no-export, "64512:1"], peers: [tor]}`, `
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: aliases, namespace: metallb-system}
spec: {communities: [{name: no-export, value: "65535:65281"}]}`, `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.1, holdTime: 90s, bfdProfile: fast, passwordSecret: {name: bgp-md5}, enableGracefulRestart: true}`, `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 50}`, `
apiVersion: metallb.io/v1beta1
kind: ServiceL2Status
metadata: {name: status, namespace: metallb-system}`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated, namespace: metallb-system}`)
	r := Convert(objs)

	var names []string
	for _, o := range r.Objects {
		names = append(names, o.GetObjectKind().GroupVersionKind().Kind+"/"+o.GetName())
	}
	if want := []string{"BGPAdvertisement/bgp", "BGPPeer/tor", "Community/aliases", "IPAddressPool/public", "L2Advertisement/l2"}; !slices.Equal(names, want) {
		t.Fatalf("objects %v, want %v", names, want)
	}
	pool := r.Objects[3].(*v1beta1.IPAddressPool)
	if pool.APIVersion != "heraldlb.io/v1beta1" || pool.Labels["tier"] != "edge" || pool.Namespace != "" ||
		pool.Annotations["heraldlb.io/migrated-from"] != "IPAddressPool/metallb-system/public" ||
		len(pool.Spec.Addresses) != 2 || *pool.Spec.AutoAssign || !pool.Spec.AvoidBuggyIPs ||
		pool.Spec.ServiceAllocation.Priority != 10 || pool.Spec.ServiceAllocation.ServiceSelectors[0].MatchLabels["app"] != "web" {
		t.Errorf("pool = %+v", pool)
	}
	peer := r.Objects[1].(*v1beta1.BGPPeer)
	if peer.Spec.HoldTime.Duration.Seconds() != 90 || !peer.Spec.EnableGracefulRestart || peer.Spec.PasswordSecret.Namespace != HeraldNamespace {
		t.Errorf("peer = %+v", peer.Spec)
	}
	if len(r.Secrets) != 1 || r.Secrets[0].From.String() != "metallb-system/bgp-md5" || r.Secrets[0].To.String() != "herald-system/bgp-md5" {
		t.Errorf("secrets = %+v", r.Secrets)
	}
	adv := r.Objects[0].(*v1beta1.BGPAdvertisement)
	if *adv.Spec.AggregationLength != 32 || *adv.Spec.LocalPref != 100 || len(adv.Spec.Communities) != 2 {
		t.Errorf("advertisement = %+v", adv.Spec)
	}
	var got []string
	for _, f := range r.Findings {
		got = append(got, string(f.Severity)+" "+f.Object+" "+f.Field)
	}
	want := []string{
		"Unsupported BGPPeer/metallb-system/tor spec.bfdProfile",
		"Action BGPPeer/metallb-system/tor spec.passwordSecret",
		"Unsupported BFDProfile/metallb-system/fast ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n %q\nwant\n %q", got, want)
	}
}

func TestConvertRefuses(t *testing.T) {
	tests := []struct {
		name, doc, finding string
	}{
		{"vrf peer", `{apiVersion: metallb.io/v1beta2, kind: BGPPeer, metadata: {name: p, namespace: m}, spec: {myASN: 1, peerASN: 2, peerAddress: 198.51.100.1, vrf: red}}`, "Unsupported BGPPeer/m/p spec.vrf"},
		{"unnumbered peer", `{apiVersion: metallb.io/v1beta2, kind: BGPPeer, metadata: {name: p, namespace: m}, spec: {myASN: 1, peerASN: 2, interface: eth1}}`, "Unsupported BGPPeer/m/p spec.interface"},
		{"unknown field", `{apiVersion: metallb.io/v1beta1, kind: IPAddressPool, metadata: {name: p, namespace: m}, spec: {addresses: [198.51.100.0/30], shiny: true}}`, `Invalid IPAddressPool/m/p spec`},
		{"wrong type", `{apiVersion: metallb.io/v1beta1, kind: IPAddressPool, metadata: {name: p, namespace: m}, spec: {addresses: 198.51.100.0/30}}`, `Invalid IPAddressPool/m/p spec`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Convert(metallb(t, tt.doc))
			if len(r.Objects) != 0 {
				t.Errorf("migrated %v", r.Objects)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, string(f.Severity)+" "+f.Object+" "+f.Field)
			}
			if !slices.Contains(got, tt.finding) {
				t.Errorf("findings %q, want %q among them", got, tt.finding)
			}
		})
	}
}

// TestConvertFamilyFields: MetalLB's per-family session options keep their
// meaning: MetalLB's default, the session's own family, is written out,
// since Herald's default is both families.
func TestConvertFamilyFields(t *testing.T) {
	tests := []struct {
		spec      string
		dualStack bool
		disableMP bool
		want      []string
	}{
		{"disableMP: false, dualStackAddressFamily: true", true, false, nil},
		{"disableMP: true, dualStackAddressFamily: true", true, false, []string{"Differs spec.disableMP"}},
		{"disableMP: false, dualStackAddressFamily: false", false, false, nil},
		{"disableMP: false", false, false, nil},
		{"disableMP: true", false, true, nil},
		{"holdTime: 90s", false, false, nil},
	}
	for _, tt := range tests {
		r := Convert(metallb(t, `{apiVersion: metallb.io/v1beta2, kind: BGPPeer, metadata: {name: p, namespace: m}, spec: {myASN: 1, peerASN: 2, peerAddress: 198.51.100.1, `+tt.spec+`}}`))
		var got []string
		for _, f := range r.Findings {
			got = append(got, string(f.Severity)+" "+f.Field)
		}
		if len(r.Objects) != 1 || !slices.Equal(got, tt.want) {
			t.Fatalf("%s: %d objects, findings %q, want %q", tt.spec, len(r.Objects), got, tt.want)
		}
		spec := r.Objects[0].(*v1beta1.BGPPeer).Spec
		if spec.DualStackAddressFamily == nil || *spec.DualStackAddressFamily != tt.dualStack || spec.DisableMP != tt.disableMP {
			t.Errorf("%s: dualStackAddressFamily %v, disableMP %v; want %v, %v", tt.spec, spec.DualStackAddressFamily, spec.DisableMP, tt.dualStack, tt.disableMP)
		}
	}
}

func TestConvertSameNameInTwoNamespaces(t *testing.T) {
	r := Convert(metallb(t,
		`{apiVersion: metallb.io/v1beta1, kind: IPAddressPool, metadata: {name: p, namespace: a}, spec: {addresses: [198.51.100.0/30]}}`,
		`{apiVersion: metallb.io/v1beta1, kind: IPAddressPool, metadata: {name: p, namespace: b}, spec: {addresses: [198.51.100.4/30]}}`))
	if len(r.Objects) != 1 || len(r.Findings) != 1 || r.Findings[0].Severity != Invalid || !strings.Contains(r.Findings[0].Message, "IPAddressPool/a/p") {
		t.Errorf("objects %v, findings %v", r.Objects, r.Findings)
	}
}

// TestEveryMetalLBFieldIsMigratedOrReported: every spec field of MetalLB's
// CRDs (listed in testdata, checked against the CRDs themselves by the CLI's
// apiserver test) either has a Herald field of the same path and kind, or
// is named unsupported, so that no field is silently dropped.
func TestEveryMetalLBFieldIsMigratedOrReported(t *testing.T) {
	f, err := os.Open("testdata/metallb-fields.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	herald := map[string]map[string]bool{}
	for name, k := range kinds {
		_, spec := k.new()
		herald[name] = map[string]bool{}
		jsonPaths(reflect.TypeOf(spec).Elem(), "spec", herald[name])
	}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("line %q: want kind version path", line)
		}
		kind, path := fields[0], fields[2]
		n++
		top, _, _ := strings.Cut(strings.TrimPrefix(path, "spec."), ".")
		top = strings.TrimSuffix(top, "[]")
		k, known := kinds[kind]
		switch {
		case kind == "BFDProfile":
		case !known:
			t.Errorf("%s: kind %s is neither migrated nor reported", line, kind)
		case k.unsupported[top] != "":
		case !herald[kind][path]:
			t.Errorf("%s: Herald's %s has no such field, and it is not listed as unsupported", line, kind)
		}
	}
	if n < 80 {
		t.Errorf("only %d fields listed: the list is not MetalLB's", n)
	}
}

// jsonPaths lists the leaf JSON paths of a Go API type, as the CRD schema
// would: arrays as [], and types with their own JSON form as leaves.
func jsonPaths(t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[json.Marshaler]()) {
		out[prefix] = true
		return
	}
	switch t.Kind() {
	case reflect.Slice:
		jsonPaths(t.Elem(), prefix+"[]", out)
	case reflect.Struct:
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				jsonPaths(t.Field(i).Type, prefix+"."+name, out)
			}
		}
	default:
		out[prefix] = true
	}
}
