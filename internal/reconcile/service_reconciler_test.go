package reconcile

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/heraldlb/herald/internal/config"
	"github.com/heraldlb/herald/internal/kube"
	"github.com/heraldlb/herald/internal/testenv"
)

func TestAllocateAndRelease(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "alloc")
	createPool(t, "alloc", ns, []string{"198.51.100.0/30"})

	createService(t, ns, "a")
	ips := waitIPs(t, ns, "a", 1)
	if ips[0] != "198.51.100.0" {
		t.Errorf("IP = %s, want the lowest of the pool", ips[0])
	}
	eventually(t, 10*time.Second, func() error {
		s := getService(t, ns, "a")
		if got := s.Annotations[config.AnnotationAllocatedFromPool]; got != "alloc" {
			return fmt.Errorf("annotation = %q", got)
		}
		if m := s.Status.LoadBalancer.Ingress[0].IPMode; m == nil || *m != corev1.LoadBalancerIPModeVIP {
			return fmt.Errorf("ipMode = %v", m)
		}
		return nil
	})
	waitEvent(t, ns, "a", ReasonIPAllocated, `Assigned IP 198.51.100.0 from pool "alloc"`)
	eventually(t, 10*time.Second, func() error {
		p := getPool(t, "alloc")
		if p.Status.AssignedIPv4 != "1" || p.Status.AvailableIPv4 != "3" || p.Status.InUse != "1" || p.Status.Available != "3" {
			return fmt.Errorf("pool status = %+v", p.Status)
		}
		return nil
	})

	// Delete releases: the next Service gets the same lowest IP.
	if err := env.Client.Delete(context.Background(), getService(t, ns, "a")); err != nil {
		t.Fatal(err)
	}
	waitPoolInUse(t, "alloc", "0") // the release has been processed
	createService(t, ns, "b")
	if ips := waitIPs(t, ns, "b", 1); ips[0] != "198.51.100.0" {
		t.Errorf("after delete, IP = %s, want 198.51.100.0 released and reused", ips[0])
	}

	// A type change releases, and removes what we wrote.
	eventually(t, 10*time.Second, func() error {
		s := getService(t, ns, "b")
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.AllocateLoadBalancerNodePorts = nil
		return env.Client.Update(context.Background(), s) // retried on conflict
	})
	eventually(t, 10*time.Second, func() error {
		s := getService(t, ns, "b")
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			return fmt.Errorf("status still %v", s.Status.LoadBalancer.Ingress)
		}
		if _, ok := s.Annotations[config.AnnotationAllocatedFromPool]; ok {
			return fmt.Errorf("annotation still there")
		}
		return nil
	})
	createService(t, ns, "c")
	if ips := waitIPs(t, ns, "c", 1); ips[0] != "198.51.100.0" {
		t.Errorf("after type change, IP = %s, want 198.51.100.0 released and reused", ips[0])
	}
	waitPoolInUse(t, "alloc", "1")
}

func TestAllocationFailedEvents(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "small")
	createPool(t, "small", ns, []string{"198.51.100.16/32"})

	createService(t, ns, "first")
	waitIPs(t, ns, "first", 1)
	createService(t, ns, "second")
	waitEvent(t, ns, "second", ReasonAllocationFailed, `pool "small" is exhausted`)
	createService(t, ns, "wants-taken", withAnnotation(config.AnnotationLoadBalancerIPs, "198.51.100.16"))
	waitEvent(t, ns, "wants-taken", ReasonAllocationFailed, "in use by "+ns+"/first")
	createService(t, ns, "outside", withAnnotation(config.AnnotationLoadBalancerIPs, "203.0.113.250"))
	waitEvent(t, ns, "outside", ReasonAllocationFailed, "not in any pool")
	createService(t, ns, "bad", withAnnotation(config.AnnotationLoadBalancerIPs, "nope"))
	waitEvent(t, ns, "bad", ReasonAllocationFailed, `"nope" is not an IP address`)
}

func TestSharing(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "share")
	createPool(t, "share", ns, []string{"198.51.100.32/29"})

	createService(t, ns, "web", withAnnotation(config.AnnotationAllowSharedIP, "k"), withPorts(80))
	createService(t, ns, "dns", withAnnotation(config.AnnotationAllowSharedIP, "k"), withPorts(53))
	a, b := waitIPs(t, ns, "web", 1), waitIPs(t, ns, "dns", 1)
	if a[0] != b[0] {
		t.Errorf("services with one sharing key and distinct ports got %s and %s, want one IP", a[0], b[0])
	}
	createService(t, ns, "clash", withAnnotation(config.AnnotationAllowSharedIP, "k"), withPorts(80),
		withAnnotation(config.AnnotationLoadBalancerIPs, a[0]))
	waitEvent(t, ns, "clash", ReasonAllocationFailed, "port clash tcp/80")
	if s := getService(t, ns, "clash"); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("clashing service got %v", s.Status.LoadBalancer.Ingress)
	}
	waitPoolInUse(t, "share", "1") // a shared IP counts once
}

func TestDualStack(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "dual")
	createPool(t, "dual", ns, []string{"198.51.100.48/29", "2001:db8:1::/64"}) // 2^64 less the Subnet-Router anycast

	createService(t, ns, "ds", dualStack)
	ips := waitIPs(t, ns, "ds", 2)
	a, b := netip.MustParseAddr(ips[0]), netip.MustParseAddr(ips[1])
	if !a.Is4() || !b.Is6() {
		t.Errorf("IPs = %v, want IPv4 then IPv6", ips)
	}
	eventually(t, 10*time.Second, func() error {
		p := getPool(t, "dual")
		if p.Status.AssignedIPv6 != "1" || p.Status.AvailableIPv6 != "18446744073709551614" || p.Status.InUse != "2" {
			return fmt.Errorf("pool status = %+v", p.Status)
		}
		return nil
	})
}

func TestClassFiltering(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	m := startManager(t, nil)
	cleanup(t, ns, "class")
	createPool(t, "class", ns, []string{"198.51.100.64/29"})

	createService(t, ns, "other", withClass("example.com/other"))
	createService(t, ns, "clusterip", func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.AllocateLoadBalancerNodePorts = nil
	})
	before := getService(t, ns, "other").ResourceVersion
	createService(t, ns, "ours", withClass(kube.DefaultClass))
	createService(t, ns, "unset")
	waitIPs(t, ns, "ours", 1)
	waitIPs(t, ns, "unset", 1)
	// Every Service has been reconciled at its current version, and the
	// manager has stopped: any write it made has landed.
	m.waitReconciled(t, ns, "other", "clusterip", "ours", "unset")
	m.stop()
	cleanupAfterStop(t, ns, "class")
	for _, name := range []string{"other", "clusterip"} {
		s := getService(t, ns, name)
		if len(s.Status.LoadBalancer.Ingress) > 0 || s.Annotations[config.AnnotationAllocatedFromPool] != "" {
			t.Errorf("service %s of another class was written to: %+v", name, s)
		}
	}
	if rv := getService(t, ns, "other").ResourceVersion; rv != before {
		t.Errorf("service of another class changed: resourceVersion %s → %s", before, rv)
	}
	var events corev1.EventList
	if err := env.Client.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.Source.Component == "herald-controller" && (e.InvolvedObject.Name == "other" || e.InvolvedObject.Name == "clusterip") {
			t.Errorf("event on a service of another class: %s %s", e.Reason, e.Message)
		}
	}
}

// TestForeignStatusIsLeftAlone: a Service of another class that carries our
// pool annotation (it was ours once) loses the annotation, but a status
// holding addresses outside that pool belongs to the other implementation
// and is not cleared.
func TestForeignStatusIsLeftAlone(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	createPool(t, "foreign", ns, []string{"198.51.100.80/29"})
	svc := createService(t, ns, "moved", withClass("example.com/other"), func(s *corev1.Service) {
		s.Annotations = map[string]string{config.AnnotationAllocatedFromPool: "foreign"}
	})
	mode := corev1.LoadBalancerIPModeVIP
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.99", IPMode: &mode}}
	if err := env.Client.Status().Update(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	startManager(t, nil)
	cleanup(t, ns, "foreign") // before the manager stops, which clears the pool's finalizer
	eventually(t, 10*time.Second, func() error {
		if s := getService(t, ns, "moved"); s.Annotations[config.AnnotationAllocatedFromPool] != "" {
			return fmt.Errorf("annotation still there")
		}
		return nil
	})
	if got := getService(t, ns, "moved").Status.LoadBalancer.Ingress; len(got) != 1 || got[0].IP != "203.0.113.99" {
		t.Errorf("the other implementation's status was changed: %+v", got)
	}
}

// TestAdoptStatusIPs: IPs that a Service's status shows although this
// controller never gave them are kept when they are free addresses of a
// pool, replaced with an Event when they are outside every pool or held by
// another Service, and left in place with an Event when they cannot be
// recorded at all.
func TestAdoptStatusIPs(t *testing.T) {
	testenv.Require(t, env)
	ns := newNamespace(t)
	startManager(t, nil)
	cleanup(t, ns, "adopt")
	createPool(t, "adopt", ns, []string{"198.51.100.160/29"})
	createService(t, ns, "owner")
	owned := waitIPs(t, ns, "owner", 1)[0]

	// Each Service first fails on a malformed annotation, so that it holds
	// nothing; then its status is written behind the controller's back, and
	// the annotation fixed.
	cases := map[string][]string{
		"free":    {"198.51.100.165"},
		"outside": {"203.0.113.99"},
		"taken":   {owned},
		"two-v4":  {"198.51.100.166", "198.51.100.167"},
	}
	for name, status := range cases {
		svc := createService(t, ns, name, withAnnotation(config.AnnotationLoadBalancerIPs, "nope"))
		waitEvent(t, ns, name, ReasonAllocationFailed, `"nope" is not an IP address`)
		mode := corev1.LoadBalancerIPModeVIP
		svc = getService(t, ns, name)
		svc.Status.LoadBalancer.Ingress = nil
		for _, ip := range status {
			svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: &mode})
		}
		if err := env.Client.Status().Update(context.Background(), svc); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, func() error {
			s := getService(t, ns, name)
			delete(s.Annotations, config.AnnotationLoadBalancerIPs)
			return env.Client.Update(context.Background(), s)
		})
	}
	if got := waitIPs(t, ns, "free", 1)[0]; got != "198.51.100.165" {
		t.Errorf("a free address of a pool in the status was not kept: %s", got)
	}
	waitEvent(t, ns, "outside", ReasonIPReplaced, "IP 203.0.113.99 in the Service's status replaced by 198.51.100.")
	waitEvent(t, ns, "taken", ReasonIPReplaced, "in use by "+ns+"/owner")
	for _, name := range []string{"outside", "taken"} {
		eventually(t, 10*time.Second, func() error {
			ips := waitIPs(t, ns, name, 1)
			if ip := netip.MustParseAddr(ips[0]); !netip.MustParsePrefix("198.51.100.160/29").Contains(ip) || ips[0] == owned {
				return fmt.Errorf("%s has %s, want a free address of the pool", name, ips[0])
			}
			return nil
		})
	}
	waitEvent(t, ns, "two-v4", ReasonAllocationFailed, "they are left in place")
	if got := waitIPs(t, ns, "two-v4", 2); got[0] != "198.51.100.166" || got[1] != "198.51.100.167" {
		t.Errorf("a status that cannot be recorded was changed: %v", got)
	}
	if got := waitIPs(t, ns, "owner", 1)[0]; got != owned {
		t.Errorf("the owner's IP moved from %s to %s", owned, got)
	}
}
