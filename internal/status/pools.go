package status

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/heraldlb/herald/api/v1beta1"
)

// PoolRow is one IPAddressPool as `heraldctl pools` shows it.
type PoolRow struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
	// InUse and Available are strings, as the pool's status writes them:
	// an IPv6 pool's may exceed any integer type.
	InUse      string `json:"inUse"`
	Available  string `json:"available"`
	AutoAssign bool   `json:"autoAssign"`
	// Condition is the pool's state in one word: Ready, or the reason its
	// Ready condition is not True, or Unknown before the controller wrote it.
	Condition string `json:"condition"`
	// Advertisements are the L2Advertisements ("L2/name") and
	// BGPAdvertisements ("BGP/name") that select the pool.
	Advertisements []string `json:"advertisements"`
}

// Pools lists the pools, by name, with the advertisements that select each.
func Pools(pools []v1beta1.IPAddressPool, l2 []v1beta1.L2Advertisement, bgp []v1beta1.BGPAdvertisement) []PoolRow {
	rows := []PoolRow{}
	for _, p := range pools {
		r := PoolRow{Name: p.Name, InUse: p.Status.InUse, Available: p.Status.Available,
			AutoAssign: p.Spec.AutoAssign == nil || *p.Spec.AutoAssign, Condition: conditionWord(p.Status.Conditions), Advertisements: []string{}}
		for _, a := range p.Spec.Addresses {
			r.Addresses = append(r.Addresses, string(a))
		}
		for _, a := range l2 {
			if selectsPool(a.Spec.IPAddressPools, a.Spec.IPAddressPoolSelectors, p) {
				r.Advertisements = append(r.Advertisements, "L2/"+a.Name)
			}
		}
		for _, a := range bgp {
			if selectsPool(a.Spec.IPAddressPools, a.Spec.IPAddressPoolSelectors, p) {
				r.Advertisements = append(r.Advertisements, "BGP/"+a.Name)
			}
		}
		slices.Sort(r.Advertisements)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b PoolRow) int { return strings.Compare(a.Name, b.Name) })
	return rows
}

// conditionWord sums up a Ready condition in one word.
func conditionWord(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, "Ready")
	switch {
	case c == nil:
		return "Unknown"
	case c.Status == metav1.ConditionTrue:
		return "Ready"
	case c.Reason != "":
		return c.Reason
	}
	return "NotReady"
}

// selectsPool follows the advertisements' rule: neither names nor selectors
// select every pool; otherwise a pool named, or matching a selector, is
// selected. A selector that does not parse selects nothing, as the speaker
// rejects the advertisement.
func selectsPool(names []string, sels []metav1.LabelSelector, p v1beta1.IPAddressPool) bool {
	if len(names) == 0 && len(sels) == 0 {
		return true
	}
	if slices.Contains(names, p.Name) {
		return true
	}
	for _, s := range sels {
		sel, err := metav1.LabelSelectorAsSelector(&s)
		if err == nil && sel.Matches(labels.Set(p.Labels)) {
			return true
		}
	}
	return false
}
