package v1beta1_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/testenv"
)

// roundTrip creates obj, reads it back, updates its spec through mutate and
// its status through setStatus, and checks each step through a fresh read.
func roundTrip[T client.Object](t *testing.T, obj T, fresh func() T, mutate, setStatus func(T), check func(t *testing.T, got T)) {
	t.Helper()
	c := env.Client
	if err := c.Create(ctx(t), obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx(t), obj) })
	got := fresh()
	if err := c.Get(ctx(t), client.ObjectKeyFromObject(obj), got); err != nil {
		t.Fatalf("get: %v", err)
	}
	mutate(got)
	if err := c.Update(ctx(t), got); err != nil {
		t.Fatalf("update: %v", err)
	}
	setStatus(got)
	if err := c.Status().Update(ctx(t), got); err != nil {
		t.Fatalf("update status: %v", err)
	}
	final := fresh()
	if err := c.Get(ctx(t), client.ObjectKeyFromObject(obj), final); err != nil {
		t.Fatalf("get after update: %v", err)
	}
	check(t, final)
}

func ready(gen int64) metav1.Condition {
	return metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Valid", Message: "in force", ObservedGeneration: gen, LastTransitionTime: metav1.Now()}
}

func TestRoundTripIPAddressPool(t *testing.T) {
	testenv.Require(t, env)
	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: "rt-pool"},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []v1beta1.AddressRange{"198.51.100.0/28", "2001:db8::/64"}},
	}
	roundTrip(t, pool, func() *v1beta1.IPAddressPool { return &v1beta1.IPAddressPool{} },
		func(p *v1beta1.IPAddressPool) {
			if p.Spec.AutoAssign == nil || !*p.Spec.AutoAssign {
				t.Errorf("autoAssign not defaulted to true: %v", p.Spec.AutoAssign)
			}
			p.Spec.Addresses = append(p.Spec.Addresses, "198.51.100.20-198.51.100.30")
		},
		func(p *v1beta1.IPAddressPool) {
			// 2^64 addresses: more than an int64 holds.
			p.Status = v1beta1.IPAddressPoolStatus{
				AssignedIPv4: "1", AvailableIPv4: "26", AssignedIPv6: "0", AvailableIPv6: "18446744073709551616",
				InUse: "1", Available: "18446744073709551642", ObservedGeneration: p.Generation,
				Conditions: []metav1.Condition{ready(p.Generation)},
			}
		},
		func(t *testing.T, p *v1beta1.IPAddressPool) {
			if len(p.Spec.Addresses) != 3 {
				t.Errorf("addresses = %v, want 3 entries", p.Spec.Addresses)
			}
			if p.Status.AvailableIPv6 != "18446744073709551616" {
				t.Errorf("availableIPv6 = %q, want 2^64 exactly", p.Status.AvailableIPv6)
			}
			if !meta.IsStatusConditionTrue(p.Status.Conditions, "Ready") {
				t.Errorf("Ready condition lost: %v", p.Status.Conditions)
			}
		})
}

func TestRoundTripL2Advertisement(t *testing.T) {
	testenv.Require(t, env)
	adv := &v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Name: "rt-l2"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"lan"}}}
	roundTrip(t, adv, func() *v1beta1.L2Advertisement { return &v1beta1.L2Advertisement{} },
		func(a *v1beta1.L2Advertisement) { a.Spec.Interfaces = []string{"eth0", "bond0.100"} },
		func(a *v1beta1.L2Advertisement) { a.Status.Conditions = []metav1.Condition{ready(a.Generation)} },
		func(t *testing.T, a *v1beta1.L2Advertisement) {
			if strings.Join(a.Spec.Interfaces, ",") != "eth0,bond0.100" || len(a.Status.Conditions) != 1 {
				t.Errorf("got spec %+v status %+v", a.Spec, a.Status)
			}
		})
}

func TestRoundTripBGPAdvertisement(t *testing.T) {
	testenv.Require(t, env)
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: "rt-bgp"}}
	roundTrip(t, adv, func() *v1beta1.BGPAdvertisement { return &v1beta1.BGPAdvertisement{} },
		func(a *v1beta1.BGPAdvertisement) {
			if a.Spec.AggregationLength == nil || *a.Spec.AggregationLength != 32 || a.Spec.AggregationLengthV6 == nil || *a.Spec.AggregationLengthV6 != 128 {
				t.Errorf("aggregation lengths not defaulted to 32 and 128: %v %v", a.Spec.AggregationLength, a.Spec.AggregationLengthV6)
			}
			a.Spec.Communities = []v1beta1.CommunityOrAlias{"65000:100", "large:64500:1:2", "no-advertise"}
			a.Spec.LocalPref = ptr.To[int64](4294967295)
		},
		func(a *v1beta1.BGPAdvertisement) { a.Status.Conditions = []metav1.Condition{ready(a.Generation)} },
		func(t *testing.T, a *v1beta1.BGPAdvertisement) {
			if len(a.Spec.Communities) != 3 || *a.Spec.LocalPref != 4294967295 || len(a.Status.Conditions) != 1 {
				t.Errorf("got spec %+v status %+v", a.Spec, a.Status)
			}
		})
}

func TestRoundTripBGPPeer(t *testing.T) {
	testenv.Require(t, env)
	peer := &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "rt-peer"}, Spec: v1beta1.BGPPeerSpec{
		MyASN: 64513, PeerASN: ptr.To[v1beta1.ASN](4200000000), PeerAddress: "2001:db8::1",
	}}
	roundTrip(t, peer, func() *v1beta1.BGPPeer { return &v1beta1.BGPPeer{} },
		func(p *v1beta1.BGPPeer) {
			if p.Spec.PeerPort != 179 || p.Spec.HoldTime == nil || p.Spec.HoldTime.Duration.String() != "1m30s" {
				t.Errorf("peerPort/holdTime not defaulted to 179/90s: %d %v", p.Spec.PeerPort, p.Spec.HoldTime)
			}
			p.Spec.PasswordSecret = &v1beta1.SecretRef{Name: "bgp"}
		},
		func(p *v1beta1.BGPPeer) { p.Status.Conditions = []metav1.Condition{ready(p.Generation)} },
		func(t *testing.T, p *v1beta1.BGPPeer) {
			if p.Spec.PasswordSecret == nil || p.Spec.PasswordSecret.Namespace != "herald-system" {
				t.Errorf("passwordSecret namespace not defaulted: %+v", p.Spec.PasswordSecret)
			}
			if int64(*p.Spec.PeerASN) != 4200000000 || len(p.Status.Conditions) != 1 {
				t.Errorf("got spec %+v status %+v", p.Spec, p.Status)
			}
		})
}

func TestRoundTripCommunity(t *testing.T) {
	testenv.Require(t, env)
	comm := &v1beta1.Community{ObjectMeta: metav1.ObjectMeta{Name: "rt-comm"}, Spec: v1beta1.CommunitySpec{
		Communities: []v1beta1.CommunityAlias{{Name: "no-advertise", Value: "65535:65282"}},
	}}
	roundTrip(t, comm, func() *v1beta1.Community { return &v1beta1.Community{} },
		func(c *v1beta1.Community) {
			c.Spec.Communities = append(c.Spec.Communities, v1beta1.CommunityAlias{Name: "east", Value: "large:4294967295:0:1"})
		},
		func(c *v1beta1.Community) { c.Status.Conditions = []metav1.Condition{ready(c.Generation)} },
		func(t *testing.T, c *v1beta1.Community) {
			if len(c.Spec.Communities) != 2 || len(c.Status.Conditions) != 1 {
				t.Errorf("got spec %+v status %+v", c.Spec, c.Status)
			}
		})
}
