package linkfilter

import (
	"strings"
	"testing"
)

func TestWhy(t *testing.T) {
	defaults, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	only, err := New([]string{`^eth`, `^bond0$`}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rules Rules
		link  Link
		want  string // substring; "" means allowed
	}{
		{defaults, Link{Name: "eth0"}, ""},
		{defaults, Link{Name: "bond0"}, ""},
		{defaults, Link{Name: "br0"}, ""},
		{defaults, Link{Name: "eth0.100", MasterKind: "vrf"}, ""},
		{defaults, Link{Name: "eth1", MasterKind: "bond"}, "member of a bond"},
		{defaults, Link{Name: "eth2", MasterKind: "bridge"}, "member of a bridge"},
		{defaults, Link{Name: "wg0", NoARP: true}, "NOARP"},
		{defaults, Link{Name: "veth1a2b3c"}, "excluded pattern ^veth"},
		{defaults, Link{Name: "cali0123456789a"}, "^cali"},
		{defaults, Link{Name: "lxc_health"}, "^lxc"},
		{defaults, Link{Name: "cilium_host"}, "^cilium_"},
		{defaults, Link{Name: "flannel.1"}, "^flannel"},
		{defaults, Link{Name: "kube-ipvs0"}, "^kube-ipvs"},
		{defaults, Link{Name: "vxlan.calico"}, "^vxlan"},
		{only, Link{Name: "eth3"}, ""},
		{only, Link{Name: "veth0"}, "none of the included"},
		{only, Link{Name: "bond0"}, ""},
		{only, Link{Name: "eth1", MasterKind: "bond"}, "member of a bond"},
	}
	for _, tt := range tests {
		got := tt.rules.Why(tt.link)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("Why(%+v) = %q, want %q", tt.link, got, tt.want)
		}
	}
}

func TestNewRejectsBadPatterns(t *testing.T) {
	if _, err := New([]string{"eth["}, nil); err == nil || !strings.Contains(err.Error(), `"eth[" is not a regular expression`) {
		t.Errorf("New = %v", err)
	}
	if _, err := New(nil, []string{"("}); err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Errorf("New = %v", err)
	}
}

// TestManyPodVethsAreAllExcluded: a node with 200 pod veths considers none
// of them.
func TestManyPodVethsAreAllExcluded(t *testing.T) {
	r, err := New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		for _, name := range []string{"veth", "cali", "lxc"} {
			l := Link{Name: name + strings.Repeat("a", i%11) + string(rune('0'+i%10))}
			if r.Why(l) == "" {
				t.Fatalf("%s is considered", l.Name)
			}
		}
	}
}
