package status

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
)

func TestBGPPeers(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	since := func(d time.Duration) hnt.Option {
		return func(n *v1beta1.HeraldNode) {
			n.Status.BGPPeers[len(n.Status.BGPPeers)-1].Since = &metav1.Time{Time: now.Add(-d)}
		}
	}
	withheld := func(n *v1beta1.HeraldNode) { n.Status.BGPPeers[len(n.Status.BGPPeers)-1].PrefixesWithheld = 3 }
	nodes := []v1beta1.HeraldNode{
		hnt.New("node2", hnt.NotOpened("tor", "Secret herald-system/tor-pw is missing")),
		hnt.New("node1", hnt.Peer("tor6", "2001:db8::1", "Active", "connection refused"), since(90*time.Second),
			hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.64/32"), since(3*time.Hour), withheld),
	}
	rows := BGPPeers(nodes)
	var out bytes.Buffer
	if err := WritePeers(&out, rows, now); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`node1\s+tor\s+198\.51\.100\.1\s+Established\s+3h\s+1\s+3\s+-`,
		`node1\s+tor6\s+2001:db8::1\s+Active\s+90s\s+0\s+0\s+connection refused`,
		`node2\s+tor\s+-\s+NotOpened\s+-\s+0\s+0\s+Secret herald-system/tor-pw is missing`,
	}
	for i, w := range want {
		if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(out.String()) {
			t.Errorf("row %d: table lacks %q:\n%s", i, w, out.String())
		}
	}
	if len(rows) != 3 || rows[0].Peer != "tor" || rows[2].Node != "node2" {
		t.Errorf("rows not by node then peer: %+v", rows)
	}
}

func TestRoutes(t *testing.T) {
	many := make([]string, v1beta1.MaxListedPrefixes)
	for i := range many {
		many[i] = fmt.Sprintf("198.18.%d.%d/32", i/256, i%256)
	}
	sentAll := func(sent int32) hnt.Option {
		return func(n *v1beta1.HeraldNode) { n.Status.BGPPeers[len(n.Status.BGPPeers)-1].PrefixesSent = sent }
	}
	for _, tt := range []struct {
		name string
		node v1beta1.HeraldNode
		want []string
		not  string
	}{
		{"one peer each prefix", hnt.New("n", hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.64/32", "203.0.113.96/27")),
			[]string{`tor\s+Established\s+203\.0\.113\.64/32`, `tor\s+Established\s+203\.0\.113\.96/27`}, "more"},
		{"a peer that gets nothing", hnt.New("n", hnt.Peer("tor", "198.51.100.1", "Active", "")), []string{`tor\s+Active\s+NONE`}, "more"},
		{"no sessions", hnt.New("n"), []string{`n has no BGP sessions`}, "PEER"},
		{"exactly the limit is not cut", hnt.New("n", hnt.Peer("tor", "", "Established", "", many...)), []string{`tor\s+Established\s+198\.18\.3\.255/32`}, "more"},
		{"past the limit is cut", hnt.New("n", hnt.Peer("tor", "", "Established", "", many...), sentAll(20000)),
			[]string{`tor\s+Established\s+… 18976 more: the HeraldNode lists the first 1024 of 20000`}, ""},
	} {
		var out bytes.Buffer
		if err := WriteRoutes(&out, "n", Routes(tt.node)); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(out.String()) {
				t.Errorf("%s: lacks %q:\n%.400s", tt.name, w, out.String())
			}
		}
		if tt.not != "" && bytes.Contains(out.Bytes(), []byte(tt.not)) {
			t.Errorf("%s: says %q:\n%.400s", tt.name, tt.not, out.String())
		}
	}
}
