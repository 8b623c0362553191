package speaker

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/heraldlb/herald/internal/plan"
)

func TestMetaRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("02:68:6c:00:01:01")
	links := []plan.Link{
		{Name: "eth0", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.11/25"), netip.MustParsePrefix("2001:db8:1::11/64")}},
		{Name: "bond0"},
	}
	b, err := encodeMeta(links, map[string]net.HardwareAddr{"eth0": mac}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	m, macs, err := decodeMeta("node1", b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "node1" || !m.AnyLink || !m.Settling || len(m.Links) != 2 || m.Links[0].Name != "eth0" ||
		!slices.Equal(m.Links[0].Prefixes, links[0].Prefixes) || macs["eth0"].String() != mac.String() || macs["bond0"] != nil {
		t.Errorf("round trip = %+v, %v", m, macs)
	}
}

func TestMetaTooLarge(t *testing.T) {
	var links []plan.Link
	for i := range 40 {
		links = append(links, plan.Link{Name: strings.Repeat("x", 14) + string(rune('a'+i%26))})
	}
	if _, err := encodeMeta(links, nil, true, false); err == nil || !strings.Contains(err.Error(), "512") {
		t.Errorf("encodeMeta of 40 links: %v, want an error naming the limit", err)
	}
}

func TestDecodeMetaGarbage(t *testing.T) {
	m, _, err := decodeMeta("node2", []byte("{not json"))
	if err == nil || m.Name != "node2" || len(m.Links) != 0 {
		t.Errorf("decodeMeta(garbage) = %+v, %v", m, err)
	}
	if m, _, err := decodeMeta("node3", nil); err != nil || m.Name != "node3" {
		t.Errorf("decodeMeta(nil) = %+v, %v", m, err)
	}
}

func TestObjectName(t *testing.T) {
	if got := ObjectName("node1"); got != "herald-speaker-node1" {
		t.Errorf("ObjectName = %q", got)
	}
	long := strings.Repeat("n", 253)
	a, b := ObjectName(long), ObjectName(long[:252]+"m")
	if len(a) > 253 || a == b {
		t.Errorf("long names: %d chars, distinct %v", len(a), a != b)
	}
}
