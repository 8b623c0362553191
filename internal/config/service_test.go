package config

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/internal/ipam"
)

type svcOpt func(*corev1.Service)

func mkSvc(opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func ann(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}
func lbIP(ip string) svcOpt { return func(s *corev1.Service) { s.Spec.LoadBalancerIP = ip } }
func fams(p corev1.IPFamilyPolicy, fs ...corev1.IPFamily) svcOpt {
	return func(s *corev1.Service) { s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = &p, fs }
}
func port(proto corev1.Protocol, n int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Protocol: proto, Port: n})
	}
}
func local(sel map[string]string) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.Selector = sel
	}
}

func TestRequest(t *testing.T) {
	tests := []struct {
		name    string
		svc     *corev1.Service
		want    ipam.Request
		wantErr string // substring of the message; "" means no error
	}{
		{
			name: "plain",
			svc:  mkSvc(),
			want: ipam.Request{Key: "ns/web", Namespace: "ns"},
		},
		{
			name: "pool, sharing and ports",
			svc:  mkSvc(ann(AnnotationAddressPool, " blue "), ann(AnnotationAllowSharedIP, "k"), port("", 80), port(corev1.ProtocolUDP, 53)),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Pool: "blue", SharingKey: "k",
				Ports: []ipam.Port{{Protocol: "TCP", Port: 80}, {Protocol: "UDP", Port: 53}}},
		},
		{
			name: "spec.loadBalancerIP",
			svc:  mkSvc(lbIP("198.51.100.7")),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", RequestedIPs: []netip.Addr{netip.MustParseAddr("198.51.100.7")}},
		},
		{
			name: "annotation with two families",
			svc:  mkSvc(ann(AnnotationLoadBalancerIPs, "198.51.100.7, 2001:db8::7"), fams(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol)),
			want: ipam.Request{Key: "ns/web", Namespace: "ns",
				RequestedIPs: []netip.Addr{netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7")},
				Families:     []ipam.Family{ipam.IPv6, ipam.IPv4}, Policy: ipam.RequireDualStack},
		},
		{
			name: "spec and annotation agree",
			svc:  mkSvc(lbIP("198.51.100.7"), ann(AnnotationLoadBalancerIPs, "198.51.100.7")),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", RequestedIPs: []netip.Addr{netip.MustParseAddr("198.51.100.7")}},
		},
		{
			name: "prefer dual stack",
			svc:  mkSvc(fams(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol)),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Families: []ipam.Family{ipam.IPv4}, Policy: ipam.PreferDualStack},
		},
		{
			name: "local backend is canonical",
			svc:  mkSvc(local(map[string]string{"b": "2", "a": "1"})),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Local: true, Backend: "a=1,b=2"},
		},
		{name: "bad annotation IP", svc: mkSvc(ann(AnnotationLoadBalancerIPs, "198.51.100.7,nope")), wantErr: `heraldlb.io/loadBalancerIPs: "nope" is not an IP address`},
		{name: "empty annotation list", svc: mkSvc(ann(AnnotationLoadBalancerIPs, "")), wantErr: `"" is not an IP address`},
		{name: "two IPv4", svc: mkSvc(ann(AnnotationLoadBalancerIPs, "198.51.100.7,198.51.100.8")), wantErr: "at most one IPv4 and one IPv6"},
		{name: "three IPs", svc: mkSvc(ann(AnnotationLoadBalancerIPs, "198.51.100.7,2001:db8::1,2001:db8::2")), wantErr: "at most one IPv4 and one IPv6"},
		{name: "bad spec IP", svc: mkSvc(lbIP("198.51.100")), wantErr: `spec.loadBalancerIP "198.51.100" is not an IP address`},
		{name: "spec and annotation disagree", svc: mkSvc(lbIP("198.51.100.7"), ann(AnnotationLoadBalancerIPs, "198.51.100.8")), wantErr: "disagree"},
		{name: "empty pool", svc: mkSvc(ann(AnnotationAddressPool, " ")), wantErr: "heraldlb.io/address-pool is empty"},
		{name: "empty sharing key", svc: mkSvc(ann(AnnotationAllowSharedIP, "")), wantErr: "heraldlb.io/allow-shared-ip is empty"},
		{
			name: "MetalLB's annotations",
			svc:  mkSvc(ann("metallb.io/address-pool", "blue"), ann("metallb.io/allow-shared-ip", "k"), ann("metallb.io/loadBalancerIPs", "198.51.100.7")),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Pool: "blue", SharingKey: "k", RequestedIPs: []netip.Addr{netip.MustParseAddr("198.51.100.7")}},
		},
		{
			name: "MetalLB's older annotations",
			svc:  mkSvc(ann("metallb.universe.tf/address-pool", "blue"), ann("metallb.universe.tf/allow-shared-ip", "k"), ann("metallb.universe.tf/loadBalancerIPs", "2001:db8::7")),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Pool: "blue", SharingKey: "k", RequestedIPs: []netip.Addr{netip.MustParseAddr("2001:db8::7")}},
		},
		{
			name: "prefixes that agree",
			svc:  mkSvc(ann(AnnotationAddressPool, "blue"), ann("metallb.io/address-pool", "blue "), ann("metallb.universe.tf/address-pool", "blue")),
			want: ipam.Request{Key: "ns/web", Namespace: "ns", Pool: "blue"},
		},
		{name: "prefixes that disagree", svc: mkSvc(ann(AnnotationAddressPool, "blue"), ann("metallb.io/address-pool", "red")), wantErr: `annotations heraldlb.io/address-pool "blue" and metallb.io/address-pool "red" disagree`},
		{name: "older prefix disagrees", svc: mkSvc(ann("metallb.io/allow-shared-ip", "a"), ann("metallb.universe.tf/allow-shared-ip", "b")), wantErr: "metallb.universe.tf/allow-shared-ip"},
		{name: "bad MetalLB IP", svc: mkSvc(ann("metallb.universe.tf/loadBalancerIPs", "nope")), wantErr: `metallb.universe.tf/loadBalancerIPs: "nope" is not an IP address`},
		{name: "empty MetalLB pool", svc: mkSvc(ann("metallb.io/address-pool", "")), wantErr: "metallb.io/address-pool is empty"},
		{name: "zone", svc: mkSvc(ann(AnnotationLoadBalancerIPs, "fe80::1%eth0")), wantErr: "is not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Request(tt.svc, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Request() error = %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidService) || ipam.Reason(err) != "InvalidRequest" {
					t.Errorf("error %v: not ErrInvalidService, or reason %q", err, ipam.Reason(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("Request() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Request() =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestRequestKeepsLabels(t *testing.T) {
	svc := mkSvc()
	svc.Labels = map[string]string{"app": "x"}
	got, err := Request(svc, map[string]string{"team": "a"})
	if err != nil || got.ServiceLabels["app"] != "x" || got.NamespaceLabels["team"] != "a" {
		t.Errorf("Request() = %+v, %v", got, err)
	}
}

func TestAllocatedFromPoolAndSharingKey(t *testing.T) {
	tests := []struct {
		svc       *corev1.Service
		pool, key string
	}{
		{svc: mkSvc()},
		{svc: mkSvc(ann(AnnotationAllocatedFromPool, "a"), ann("metallb.io/ip-allocated-from-pool", "b")), pool: "a"},
		{svc: mkSvc(ann("metallb.universe.tf/ip-allocated-from-pool", "c")), pool: "c"},
		{svc: mkSvc(ann("metallb.io/allow-shared-ip", " k ")), key: "k"},
		{svc: mkSvc(ann("metallb.io/allow-shared-ip", "k"), ann(AnnotationAllowSharedIP, "j"))}, // disagree: Request says so
	}
	for i, tt := range tests {
		if got := AllocatedFromPool(tt.svc); got != tt.pool {
			t.Errorf("%d: AllocatedFromPool = %q, want %q", i, got, tt.pool)
		}
		if got := SharingKey(tt.svc); got != tt.key {
			t.Errorf("%d: SharingKey = %q, want %q", i, got, tt.key)
		}
	}
}

func TestIngressIPs(t *testing.T) {
	svc := &corev1.Service{Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
		{IP: "198.51.100.1"}, {Hostname: "lb.example.com"}, {IP: "not-an-ip"}, {IP: "2001:db8::1"},
	}}}}
	want := []netip.Addr{netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")}
	if got := IngressIPs(svc); !slices.Equal(got, want) {
		t.Errorf("IngressIPs = %v, want %v", got, want)
	}
	if got := IngressIPs(&corev1.Service{}); len(got) != 0 {
		t.Errorf("IngressIPs of a Service without status = %v", got)
	}
}
