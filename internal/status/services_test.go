package status

import (
	"bytes"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/heraldlb/herald/api/v1beta1"
	hnt "github.com/heraldlb/herald/internal/heraldnodetest"
)

func TestServices(t *testing.T) {
	nodes := []v1beta1.HeraldNode{
		hnt.New("node1", hnt.Layer2("198.51.100.64", "eth0", "demo/web"),
			hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.96/27"), hnt.Peer("tor2", "198.51.100.2", "Established", "", "203.0.113.64/32")),
		hnt.New("node2", hnt.Layer2("198.51.100.64", "eth1", "demo/web"), hnt.Peer("tor", "198.51.100.1", "Established", "", "203.0.113.96/27")),
	}
	svc := func(name string, ips ...string) corev1.Service {
		s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name, Annotations: map[string]string{AnnotationPool: "lan"}}}
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	rows := Services([]corev1.Service{svc("web", "198.51.100.64"), svc("agg", "203.0.113.100"), svc("api", "203.0.113.64"), svc("lost", "198.51.100.70"), svc("pending")}, nodes)
	var out bytes.Buffer
	if err := WriteServices(&out, rows); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, want string }{
		{"two nodes answer over Layer 2", `(?m)^demo/web\s+198\.51\.100\.64\s+lan\s+node1,node2\s+-$`},
		{"an aggregate carries it", `(?m)^demo/agg\s+203\.0\.113\.100\s+lan\s+-\s+node1→tor,node2→tor$`},
		{"one session of two", `(?m)^demo/api\s+203\.0\.113\.64\s+lan\s+-\s+node1→tor2$`},
		{"nobody announces it", `(?m)^demo/lost\s+198\.51\.100\.70\s+lan\s+NONE\s+NONE$`},
		{"no IP yet", `(?m)^demo/pending\s+PENDING\s+lan\s+-\s+-$`},
	} {
		if !regexp.MustCompile(tt.want).MatchString(out.String()) {
			t.Errorf("%s: table lacks %q:\n%s", tt.name, tt.want, out.String())
		}
	}
	if rows[0].Service != "demo/agg" || !rows[2].Unannounced() || !rows[3].Pending() || rows[3].Unannounced() {
		t.Errorf("rows = %+v", rows)
	}
}
