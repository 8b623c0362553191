package metallbcompat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// View re-emits the series of From under another name. Series of From that
// agree on every label of Labels are summed into one: that is how a Herald
// metric with more labels than MetalLB's (family, say) becomes MetalLB's.
type View struct {
	// Name, Help and Type are MetalLB's.
	Name, Help string
	Type       prometheus.ValueType
	// Labels are MetalLB's label names, each read from the Herald label of
	// the same name.
	Labels []string
	// From is the Herald collector read at each scrape.
	From prometheus.Collector
	// Rewrite, if set, turns a Herald label value into MetalLB's (a
	// BGPPeer's name into its address, say); false drops the series.
	Rewrite func(label, value string) (string, bool)
}

func (v *View) desc() *prometheus.Desc { return prometheus.NewDesc(v.Name, v.Help, v.Labels, nil) }

// Describe implements prometheus.Collector.
func (v *View) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc() }

// Collect implements prometheus.Collector.
func (v *View) Collect(ch chan<- prometheus.Metric) {
	sums, order := map[string]float64{}, []string{}
	for _, m := range collect(v.From) {
		values, ok := v.values(m)
		if !ok {
			continue
		}
		k := strings.Join(values, "\x00")
		if _, seen := sums[k]; !seen {
			order = append(order, k)
		}
		sums[k] += value(m)
	}
	slices.Sort(order)
	d := v.desc()
	for _, k := range order {
		var lv []string
		if len(v.Labels) > 0 {
			lv = strings.Split(k, "\x00")
		}
		ch <- prometheus.MustNewConstMetric(d, v.Type, sums[k], lv...)
	}
}

// values returns m's values of v.Labels, rewritten.
func (v *View) values(m *dto.Metric) ([]string, bool) {
	have := map[string]string{}
	for _, lp := range m.GetLabel() {
		have[lp.GetName()] = lp.GetValue()
	}
	out := make([]string, len(v.Labels))
	for i, l := range v.Labels {
		val := have[l]
		if v.Rewrite != nil {
			var ok bool
			if val, ok = v.Rewrite(l, val); !ok {
				return nil, false
			}
		}
		out[i] = val
	}
	return out, true
}

// collect reads every series c has now.
func collect(c prometheus.Collector) []*dto.Metric {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	var out []*dto.Metric
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			continue // a series that cannot be written is not exported either
		}
		out = append(out, &d)
	}
	return out
}

// value is a gauge's, counter's or untyped metric's value.
func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

// Register registers every view with reg.
func Register(reg prometheus.Registerer, views ...*View) error {
	for _, v := range views {
		if err := reg.Register(v); err != nil {
			return fmt.Errorf("register %s: %w", v.Name, err)
		}
	}
	return nil
}

// LabelValues returns the values label takes in the series c has now, each
// once, sorted: what a collector must delete to follow a set that shrank.
func LabelValues(c prometheus.Collector, label string) []string {
	var out []string
	for _, m := range collect(c) {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label {
				out = append(out, lp.GetValue())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ConfigViews are MetalLB's k8s_client gauges, which both its binaries
// export (internal/k8s/controllers/stats.go there), read from a component's
// own loaded and stale gauges.
func ConfigViews(loaded, stale prometheus.Gauge) []*View {
	return []*View{
		{Name: "metallb_k8s_client_config_loaded_bool", Help: "1 if the MetalLB configuration was successfully loaded at least once.", Type: prometheus.GaugeValue, From: loaded},
		{Name: "metallb_k8s_client_config_stale_bool", Help: "1 if running on a stale configuration, because the latest config failed to load.", Type: prometheus.GaugeValue, From: stale},
	}
}
