package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go4.org/netipx"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/ipam"
)

// FuzzRequest feeds arbitrary annotations and spec fields to Request. It
// must not panic; an error must be ErrInvalidService; a request must be
// well formed, the same every time, and served or refused by the allocator
// with a named reason, never with a panic or an unnamed error. The seeds
// are in testdata/fuzz/FuzzRequest; CI runs them.
func FuzzRequest(f *testing.F) {
	f.Add("blue", "198.51.100.7", "k", "", byte(0), byte(0), int32(80))
	f.Add("", "198.51.100.7, 2001:db8::7", "", "198.51.100.7", byte(3), byte(2), int32(53))
	f.Add(" ", "nope", " ", "", byte(1), byte(1), int32(0))
	f.Add("p", "fe80::1%eth0", "k", "198.51.100", byte(2), byte(9), int32(-1))
	f.Add("p", "", "k", "::ffff:198.51.100.1", byte(0), byte(0), int32(65535))
	f.Add("blue", "198.51.100.7", "k", "", byte(8|7), byte(0), int32(80))     // metallb.io/
	f.Add("blue", "2001:db8::7", "k", "", byte(16|32|7), byte(1), int32(443)) // metallb.universe.tf/ and heraldlb.io/
	pools := []ipam.Pool{
		{Name: "p", AutoAssign: true, Ranges: []netipx.IPRange{ipam.MustParseRange("198.51.100.0/28"), ipam.MustParseRange("2001:db8::/124")}},
		{Name: "blue", Ranges: []netipx.IPRange{ipam.MustParseRange("203.0.113.0/30")}},
	}
	f.Fuzz(func(t *testing.T, pool, ips, share, specIP string, fam, policy byte, port int32) {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", Annotations: map[string]string{}},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerIP: specIP},
		}
		// Bits 3-4 of fam pick the prefix (Herald's or MetalLB's); bit 5
		// sets the same value under Herald's prefix too, which must agree.
		prefix := annotationPrefixes[int(fam>>3)%len(annotationPrefixes)]
		for i, v := range []string{pool, ips, share} {
			if v != "" || fam&(1<<i) != 0 {
				name := strings.TrimPrefix([]string{AnnotationAddressPool, AnnotationLoadBalancerIPs, AnnotationAllowSharedIP}[i], annotationPrefixes[0])
				svc.Annotations[prefix+name] = v
				if fam&(1<<5) != 0 {
					svc.Annotations[annotationPrefixes[0]+name] = v
				}
			}
		}
		switch fam % 4 {
		case 1:
			svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
		case 2:
			svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		case 3:
			svc.Spec.IPFamilies = []corev1.IPFamily{"IPv5"}
		}
		policies := []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, "Sometimes"}
		if policy%5 < 4 {
			svc.Spec.IPFamilyPolicy = &policies[policy%5]
		}
		svc.Spec.Ports = []corev1.ServicePort{{Port: port, Protocol: corev1.ProtocolUDP}}

		req, err := Request(svc, map[string]string{"team": "a"})
		if err != nil {
			if !errors.Is(err, ErrInvalidService) || ipam.Reason(err) != "InvalidRequest" {
				t.Fatalf("error %v is not ErrInvalidService/InvalidRequest", err)
			}
			return
		}
		again, _ := Request(svc, map[string]string{"team": "a"})
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("Request is not deterministic: %+v vs %+v", req, again)
		}
		if req.Key != "ns/web" || len(req.RequestedIPs) > 2 {
			t.Fatalf("malformed request %+v", req)
		}
		for _, ip := range req.RequestedIPs {
			if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
				t.Fatalf("request holds IP %v", ip)
			}
		}
		if req.Pool != strings.TrimSpace(req.Pool) || req.SharingKey != strings.TrimSpace(req.SharingKey) {
			t.Fatalf("untrimmed pool %q or key %q", req.Pool, req.SharingKey)
		}
		a := ipam.New()
		if err := a.SetPools(pools); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Allocate(req); err != nil && ipam.Reason(err) == "Other" {
			t.Fatalf("Allocate(%+v) = %v, an error without a reason", req, err)
		}
	})
}

// FuzzPools feeds arbitrary address entries, flags and a selector to Pools,
// for three pools of different ages. It must not panic; every pool must be
// in force or have a problem, not both; the pools in force must not
// overlap, and the allocator must accept them, which is what the reconciler
// counts on. The seeds are in testdata/fuzz/FuzzPools; CI runs them.
func FuzzPools(f *testing.F) {
	f.Add("198.51.100.0/24\n2001:db8::/64", "198.51.100.10-198.51.100.20", "203.0.113.7/24", "tier", "web", byte(0))
	f.Add("198.51.100.20 - 198.51.100.10", "2001:db8::ff-2001:db8::1", "::ffff:1.2.3.4/120", "", "", byte(7))
	f.Add("198.51.100.0/25\n198.51.100.0/24", "banana", "", "a/b", "x y", byte(2))
	f.Add("0.0.0.0/0", "::/0", "2001:db8::1/128", "k", "", byte(5))
	f.Fuzz(func(t *testing.T, a, b, c, key, value string, flags byte) {
		t0 := time.Unix(1_700_000_000, 0)
		var items []v1beta1.IPAddressPool
		for i, addrs := range []string{a, b, c} {
			p := v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{
				Name:              string(rune('a' + i)),
				CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(i) * time.Second)),
			}}
			for _, s := range strings.Split(addrs, "\n") {
				p.Spec.Addresses = append(p.Spec.Addresses, v1beta1.AddressRange(s))
			}
			if flags&(1<<i) != 0 {
				now := metav1.NewTime(t0)
				p.DeletionTimestamp = &now
			}
			if flags&(8<<i) != 0 {
				p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{
					Priority:         int32(flags) - 100,
					ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{key: value}}},
				}
			}
			items = append(items, p)
		}
		cfg := Pools(items)
		for _, it := range items {
			_, bad := cfg.Problems[it.Name]
			in := false
			for _, p := range cfg.Pools {
				if p.Name == it.Name {
					in = true
					if p.Deleting != (it.DeletionTimestamp != nil) {
						t.Fatalf("pool %s: Deleting = %v", it.Name, p.Deleting)
					}
				}
			}
			if in == bad {
				t.Fatalf("pool %s: in force %v, problem %v", it.Name, in, bad)
			}
		}
		if o := ipam.FindOverlaps(cfg.Pools); len(o) > 0 {
			t.Fatalf("pools in force overlap: %+v", o)
		}
		if err := ipam.New().SetPools(cfg.Pools); err != nil {
			t.Fatalf("the allocator refuses the pools in force: %v", err)
		}
		Announcements(Objects{Pools: items})
	})
}
