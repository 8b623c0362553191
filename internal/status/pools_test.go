package status

import (
	"bytes"
	"regexp"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/heraldlb/herald/api/v1beta1"
)

func TestPools(t *testing.T) {
	pool := func(name string, labels map[string]string, auto *bool, conds ...metav1.Condition) v1beta1.IPAddressPool {
		return v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:   v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.0/28"}, AutoAssign: auto},
			Status: v1beta1.IPAddressPoolStatus{InUse: "1", Available: "15", Conditions: conds}}
	}
	ready := metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"}
	overlap := metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Overlapping"}
	l2 := []v1beta1.L2Advertisement{
		{ObjectMeta: metav1.ObjectMeta{Name: "lan"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "everything"}},
	}
	bgp := []v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Name: "tor"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPoolSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"routed": "yes"}}}}}}
	rows := Pools([]v1beta1.IPAddressPool{
		pool("routed", map[string]string{"routed": "yes"}, ptr.To(false), ready),
		pool("lan", nil, nil, ready),
		pool("clash", nil, nil, overlap),
		pool("new", nil, nil),
	}, l2, bgp)
	for _, tt := range []struct {
		name, condition string
		auto            bool
		advs            []string
	}{
		{"clash", "Overlapping", true, []string{"L2/everything"}},
		{"lan", "Ready", true, []string{"L2/everything", "L2/lan"}},
		{"new", "Unknown", true, []string{"L2/everything"}},
		{"routed", "Ready", false, []string{"BGP/tor", "L2/everything"}},
	} {
		i := slices.IndexFunc(rows, func(r PoolRow) bool { return r.Name == tt.name })
		if i < 0 {
			t.Errorf("%s: missing from %+v", tt.name, rows)
			continue
		}
		if r := rows[i]; r.Condition != tt.condition || r.AutoAssign != tt.auto || !slices.Equal(r.Advertisements, tt.advs) {
			t.Errorf("%s = %+v, want condition %s, autoAssign %v, advertisements %v", tt.name, r, tt.condition, tt.auto, tt.advs)
		}
	}
	if rows[0].Name != "clash" || rows[3].Name != "routed" {
		t.Errorf("not sorted by name: %+v", rows)
	}
	var out bytes.Buffer
	if err := WritePools(&out, rows); err != nil {
		t.Fatal(err)
	}
	if want := `(?m)^routed\s+198\.51\.100\.0/28\s+1\s+15\s+false\s+Ready\s+BGP/tor,L2/everything$`; !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("table lacks %q:\n%s", want, out.String())
	}
}

func TestPoolsNoAdvertisement(t *testing.T) {
	rows := Pools([]v1beta1.IPAddressPool{{ObjectMeta: metav1.ObjectMeta{Name: "alone"}}}, nil,
		[]v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"x"}}}})
	var out bytes.Buffer
	if err := WritePools(&out, rows); err != nil {
		t.Fatal(err)
	}
	if want := `(?m)^alone\s+-\s+-\s+-\s+true\s+Unknown\s+NONE$`; !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("table lacks %q:\n%s", want, out.String())
	}
}
