package speaker

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/internal/plan"
)

func TestTakenOver(t *testing.T) {
	a, b := netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.11")
	mine := []plan.L2{{IP: a, Winner: "n1"}, {IP: b, Winner: "n1"}}
	tests := []struct {
		name string
		prev []plan.L2
		want []netip.Addr
	}{
		{"first plan: nothing to take over", nil, nil},
		{"kept", []plan.L2{{IP: a, Winner: "n1"}, {IP: b, Winner: "n1"}}, nil},
		{"one from n2, one new", []plan.L2{{IP: a, Winner: "n2"}}, []netip.Addr{a}},
		{"both from others", []plan.L2{{IP: a, Winner: "n2"}, {IP: b, Winner: "n3"}}, []netip.Addr{a, b}},
	}
	for _, tt := range tests {
		if got := takenOver(tt.prev, mine, "n1"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCauses: a Service keeps its latest change, anything else its
// earliest, and take empties both.
func TestCauses(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	var c causes
	c.saw(svc, t0)
	c.saw(svc, t0.Add(time.Second))
	c.saw(&corev1.Node{}, t0.Add(2*time.Second))
	c.sawOther(t0.Add(3 * time.Second))
	services, other := c.take()
	if got := services["default/web"]; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Service change at %v, want the latest, %v", got, t0.Add(time.Second))
	}
	if !other.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("other change at %v, want the earliest, %v", other, t0.Add(2*time.Second))
	}
	if services, other := c.take(); len(services) != 0 || !other.IsZero() {
		t.Errorf("a second take returned %v, %v; want nothing", services, other)
	}
}

// TestCausesEndpointSliceIsItsServices: a Service is announced once its
// endpoint is ready, often a plan after its own change, so the change of
// its EndpointSlice is the Service's change too (and still any other's).
func TestCausesEndpointSliceIsItsServices(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-x1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}}
	var c causes
	c.saw(es, t0)
	c.saw(&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphan"}}, t0.Add(time.Second))
	services, other := c.take()
	if len(services) != 1 || !services["default/web"].Equal(t0) {
		t.Errorf("Service changes %v, want default/web at %v", services, t0)
	}
	if !other.Equal(t0) {
		t.Errorf("other change at %v, want %v", other, t0)
	}
}

func TestAnnounceLatencies(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	added := [][4]string{
		{"default/a", "layer2", "n1", "198.51.100.10"},
		{"default/a", "bgp", "n1", "198.51.100.10"},
		{"default/b", "layer2", "n1", "198.51.100.11"}, // moved here without a change of its own
	}
	got := announceLatencies(added, map[string]time.Time{"default/a": t0}, t0.Add(250*time.Millisecond))
	want := map[string][]time.Duration{"layer2": {250 * time.Millisecond}, "bgp": {250 * time.Millisecond}}
	if len(got) != len(want) || !slices.Equal(got["layer2"], want["layer2"]) || !slices.Equal(got["bgp"], want["bgp"]) {
		t.Errorf("latencies %v, want %v", got, want)
	}
}
