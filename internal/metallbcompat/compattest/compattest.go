// Package compattest checks, in tests, that a component registers every
// MetalLB metric it must, with MetalLB's label names.
package compattest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Controller and Speaker are the MetalLB metrics each of MetalLB's
// binaries exports (name → label names, sorted), as its source has them;
// docs/metrics.md says where each is defined.
var (
	Controller = map[string][]string{
		"metallb_allocator_addresses_in_use_total": {"pool"},
		"metallb_allocator_addresses_total":        {"pool"},
		"metallb_k8s_client_config_loaded_bool":    nil,
		"metallb_k8s_client_config_stale_bool":     nil,
	}
	Speaker = map[string][]string{
		"metallb_bgp_session_up":                {"peer"},
		"metallb_bgp_announced_prefixes_total":  {"peer"},
		"metallb_bgp_updates_total":             {"peer"},
		"metallb_layer2_requests_received":      {"ip"},
		"metallb_layer2_responses_sent":         {"ip"},
		"metallb_layer2_gratuitous_sent":        {"ip"},
		"metallb_speaker_announced":             {"ip", "node", "protocol", "service"},
		"metallb_k8s_client_config_loaded_bool": nil,
		"metallb_k8s_client_config_stale_bool":  nil,
	}
)

// Recorder is a Registerer that notes the descriptors of what is
// registered through it, and passes it on.
type Recorder struct {
	prometheus.Registerer
	mu     sync.Mutex
	labels map[string][]string
}

// NewRecorder records what is registered with reg.
func NewRecorder(reg prometheus.Registerer) *Recorder {
	return &Recorder{Registerer: reg, labels: map[string][]string{}}
}

var descRE = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

// Register implements prometheus.Registerer.
func (r *Recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	r.mu.Lock()
	for d := range ch {
		m := descRE.FindStringSubmatch(d.String())
		if m == nil {
			continue
		}
		var ls []string
		if m[2] != "" {
			ls = strings.Split(m[2], ",")
		}
		slices.Sort(ls)
		r.labels[m[1]] = ls
	}
	r.mu.Unlock()
	return r.Registerer.Register(c)
}

// MustRegister implements prometheus.Registerer.
func (r *Recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Missing lists what of want was not registered with exactly its labels.
func (r *Recorder) Missing(want map[string][]string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name, labels := range want {
		got, ok := r.labels[name]
		switch {
		case !ok:
			out = append(out, name+": not registered")
		case !slices.Equal(got, labels):
			out = append(out, fmt.Sprintf("%s: labels %v, want %v", name, got, labels))
		}
	}
	slices.Sort(out)
	return out
}
