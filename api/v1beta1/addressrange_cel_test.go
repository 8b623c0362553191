package v1beta1_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/internal/ipam"
	"github.com/heraldlb/herald/internal/testenv"
)

// addressRangeRules evaluates the IPAddressPool CRD's rules for one entry
// of spec.addresses, with the apiserver's own CEL code and the generated
// CRD, so that it can be compared with ipam.ParseRange on many strings
// without an apiserver.
type addressRangeRules struct {
	schema    *structuralschema.Structural
	validator *cel.Validator
	min, max  int
}

func loadAddressRangeRules(tb testing.TB) *addressRangeRules {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "heraldlb.io_ipaddresspools.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		tb.Fatal(err)
	}
	items := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["addresses"].Items.Schema
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(items, &internal, nil); err != nil {
		tb.Fatal(err)
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		tb.Fatal(err)
	}
	v := cel.NewValidator(s, false, celconfig.PerCallLimit)
	if v == nil || items.MinLength == nil || items.MaxLength == nil {
		tb.Fatal("the addresses items have no rules or no length bounds")
	}
	return &addressRangeRules{schema: s, validator: v, min: int(*items.MinLength), max: int(*items.MaxLength)}
}

// inBounds reports whether s passes the schema's length limits, which the
// apiserver checks apart from the CEL rules.
func (r *addressRangeRules) inBounds(s string) bool {
	n := utf8.RuneCountInString(s)
	return utf8.ValidString(s) && n >= r.min && n <= r.max
}

// admits evaluates the CEL rules on s; s must be in bounds.
func (r *addressRangeRules) admits(tb testing.TB, s string) (bool, string) {
	errs, _ := r.validator.Validate(context.Background(), field.NewPath("addresses").Index(0), r.schema, s, nil, celconfig.RuntimeCELCostBudget)
	for _, e := range errs {
		if e.Type == field.ErrorTypeInternal || e.Type == field.ErrorTypeInvalid && strings.Contains(e.Detail, "cost") {
			tb.Fatalf("CEL could not evaluate %q: %v", s, e)
		}
	}
	if len(errs) == 0 {
		return true, ""
	}
	return false, errs.ToAggregate().Error()
}

// agree checks the one relation the CRD and ParseRange must keep on an
// in-bounds string: they accept the same strings, except reversed IPv6
// ranges, which only ParseRange can refuse.
func (r *addressRangeRules) agree(tb testing.TB, s string) {
	tb.Helper()
	if !r.inBounds(s) {
		return
	}
	crdOK, why := r.admits(tb, s)
	rng, err := ipam.ParseRange(s)
	switch {
	case err == nil && !crdOK:
		tb.Errorf("%q: the CRD refuses what ipam parses as %v: %s", s, rng, why)
	case err != nil && crdOK && !reversedIPv6(s):
		tb.Errorf("%q: the CRD admits what ipam refuses: %v", s, err)
	case err != nil && !errors.Is(err, ipam.ErrInvalidRange):
		tb.Errorf("%q: ParseRange error %v does not wrap ErrInvalidRange", s, err)
	}
}

// reversedIPv6 reports whether s is an IPv6 range whose start is after its
// end.
func reversedIPv6(s string) bool {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	lo, err1 := netip.ParseAddr(strings.TrimSpace(from))
	hi, err2 := netip.ParseAddr(strings.TrimSpace(to))
	return err1 == nil && err2 == nil && lo.Is6() && hi.Is6() && hi.Less(lo)
}

// addressSeeds are the strings both tests start from: every form MetalLB
// accepts, and the ways an entry can be wrong.
var addressSeeds = []string{
	"198.51.100.0/24", "198.51.100.7/24", "198.51.100.7/32", "0.0.0.0/0", "2001:db8::/64", "2001:db8::1/64", "::/0",
	"198.51.100.10-198.51.100.20", "198.51.100.10 - 198.51.100.20", " 198.51.100.10-198.51.100.20 ", "198.51.100.10-198.51.100.10",
	"198.51.100.20-198.51.100.10", "2001:db8::1-2001:db8::ff", "2001:db8::ff-2001:db8::1", "2001:db8::1 - 2001:db8::ff",
	"198.51.100.1-2001:db8::1", "::ffff:198.51.100.1-::ffff:198.51.100.9", "::ffff:198.51.100.0/120", "fe80::1%eth0-fe80::2",
	"fe80::1%eth0/64", "198.51.100.0/33", "198.051.100.0/24", "198.51.100.0", "198.51.100.1-", "-198.51.100.1",
	"198.51.100.1-198.51.100.2-198.51.100.3", " 198.51.100.0/24", "198.51.100.0/24 ", "banana", "198.51.100.0/024",
	"2001:0db8:0000:0000:0000:0000:0000:0001-2001:0db8:0000:0000:0000:0000:0000:00ff", "203.0.113.255-203.0.114.0",
	"\t198.51.100.1-198.51.100.2", "198.51.100.1-\u00a0198.51.100.2",
}

func TestAddressRangeRulesAgreeWithParseRange(t *testing.T) {
	r := loadAddressRangeRules(t)
	for _, s := range addressSeeds {
		r.agree(t, s)
	}
	// Ranges between random addresses, written every way, in both orders.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		a, b := randomAddr(rng, rng.IntN(2) == 0), randomAddr(rng, rng.IntN(4) != 0)
		for _, f := range []string{"%s-%s", "%s - %s", " %s-%s"} {
			r.agree(t, fmt.Sprintf(f, a, b))
			r.agree(t, fmt.Sprintf(f, b, a))
		}
		r.agree(t, fmt.Sprintf("%s/%d", a, rng.IntN(a.BitLen()+2)))
	}
}

// randomAddr returns an address of one family, sometimes the same family as
// the last one so that most pairs are ranges that parse.
func randomAddr(rng *rand.Rand, v4 bool) netip.Addr {
	if v4 {
		return netip.AddrFrom4([4]byte{198, 51, byte(100 + rng.IntN(2)), byte(rng.IntN(256))})
	}
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	for i := 4; i < 16; i++ {
		if rng.IntN(3) == 0 {
			b[i] = byte(rng.IntN(256))
		}
	}
	return netip.AddrFrom16(b)
}

// FuzzAddressRange feeds arbitrary strings to the CRD's rules and to
// ParseRange: they must agree (see agree). The seeds are in
// testdata/fuzz/FuzzAddressRange; CI runs them.
func FuzzAddressRange(f *testing.F) {
	for _, s := range addressSeeds {
		f.Add(s)
	}
	r := loadAddressRangeRules(f)
	f.Fuzz(func(t *testing.T, s string) { r.agree(t, s) })
}
