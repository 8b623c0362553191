package speaker

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
)

// A node's HeraldNode is written at most once per RecordInterval while its
// Services churn, and never while nothing changes, however often the
// speaker replans (issue 17). The writes are counted by the apiserver
// itself (apiserver_request_total), and by the speaker's own counter.
//
// Time is scaled: RecordInterval is 250ms instead of the default 1s, so
// the 15s idle window holds as many status timer ticks and resyncs as a
// minute does at the defaults.
func TestHeraldNodeWritesCoalesceAndStopWhenIdle(t *testing.T) {
	ns := setUp(t)
	const interval = 250 * time.Millisecond
	m := NewMetrics()
	mem := newFakeMembership()
	mem.set(members(t, 1)...)
	start(t, "node1", mem, func(o *Options) { o.RecordInterval, o.Resync, o.Metrics = interval, time.Second, m })
	service(t, ns, "s0", "198.51.100.64", nil, "node1")
	waitLayer2(t, 1)

	// Churn: a Service every 100ms, each changing what node1 announces.
	const services = 30
	before := heraldNodeWrites(t)
	began := time.Now()
	for i := 1; i < services; i++ {
		service(t, ns, fmt.Sprintf("s%d", i), fmt.Sprintf("198.51.100.%d", 64+i), nil, "node1")
		time.Sleep(100 * time.Millisecond)
	}
	waitLayer2(t, services)
	churn, took := heraldNodeWrites(t)-before, time.Since(began)
	bound := int(math.Ceil(took.Seconds()/interval.Seconds())) + 1
	t.Logf("churn: %d HeraldNode writes over %v for %d changes (bound %d)", churn, took.Round(time.Millisecond), services-1, bound)
	if churn < 2 || churn > bound {
		t.Errorf("%d HeraldNode writes over %v of churn, want between 2 and %d (one per %v)", churn, took, bound, interval)
	}

	// Idle: the last change is written (waitLayer2 saw it), so from here
	// nothing may be written, through replans, resyncs and status ticks.
	syncs := testutil.ToFloat64(m.Syncs.WithLabelValues("ok"))
	idleFrom := heraldNodeWrites(t)
	time.Sleep(15 * time.Second)
	idle := heraldNodeWrites(t) - idleFrom
	replans := testutil.ToFloat64(m.Syncs.WithLabelValues("ok")) - syncs
	t.Logf("idle: %d HeraldNode writes over 15s (%d plans made meanwhile)", idle, int(replans))
	if replans < 5 {
		t.Fatalf("only %v plans in 15s with a 1s resync: the idle window proves nothing", replans)
	}
	if idle != 0 {
		t.Errorf("%d HeraldNode writes while nothing changed, want 0", idle)
	}
	if got, want := testutil.ToFloat64(m.NodeWrites), float64(heraldNodeWrites(t)); got > want {
		t.Errorf("the speaker counts %v writes, the apiserver took at most %v", got, want)
	}
}

// waitLayer2 waits until node1's HeraldNode lists n Layer 2 IPs.
func waitLayer2(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("HeraldNode listing %d IPs", n), func() (bool, string) {
		st, err := heraldNode("node1")
		return err == nil && len(st.Layer2) == n, fmt.Sprintf("%d IPs, %v", len(st.Layer2), err)
	})
}

// heraldNodeWrites is the number of HeraldNode writes the apiserver has
// served so far: every request on heraldnodes that is not a read.
func heraldNodeWrites(t *testing.T) int {
	t.Helper()
	raw, err := kubernetes.NewForConfigOrDie(env.Config).RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("read the apiserver's metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse the apiserver's metrics: %v", err)
	}
	n := 0.0
	for _, s := range families["apiserver_request_total"].GetMetric() {
		if label(s, "resource") == "heraldnodes" && isWrite(label(s, "verb")) {
			n += s.GetCounter().GetValue()
		}
	}
	return int(n)
}

func isWrite(verb string) bool {
	switch verb {
	case "GET", "LIST", "WATCH":
		return false
	}
	return true
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
