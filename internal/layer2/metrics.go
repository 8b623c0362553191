package layer2

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the package's collectors. Every counter has the labels
// interface and protocol ("arp" or "ndp").
type Metrics struct {
	// Requests counts well-formed requests (ARP requests and probes, NDP
	// solicitations) for an IP we answer for on that interface.
	Requests *prometheus.CounterVec
	// Ignored counts well-formed requests for IPs we do not answer for on
	// that interface: other hosts' traffic on the segment, or a client
	// asking the wrong node.
	Ignored *prometheus.CounterVec
	// Replies counts replies sent. Requests minus Replies is the replies
	// that failed to send.
	Replies *prometheus.CounterVec
	// Gratuitous counts gratuitous ARP and unsolicited NA packets sent.
	Gratuitous *prometheus.CounterVec
	// Errors counts failed socket reads and writes.
	Errors *prometheus.CounterVec
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	labels := []string{"interface", "protocol"}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "herald", Subsystem: "layer2", Name: name, Help: help,
		}, labels)
	}
	return &Metrics{
		Requests:   counter("requests_total", "ARP requests and NDP solicitations received for IPs this node answers for."),
		Ignored:    counter("requests_ignored_total", "Well-formed ARP requests and NDP solicitations for IPs this node does not answer for on that interface."),
		Replies:    counter("replies_total", "ARP replies and NDP advertisements sent in answer to a request."),
		Gratuitous: counter("gratuitous_total", "Gratuitous ARP and unsolicited NDP advertisements sent."),
		Errors:     counter("socket_errors_total", "Failed reads and writes on layer 2 sockets."),
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Requests, m.Ignored, m.Replies, m.Gratuitous, m.Errors} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register layer2 metrics: %w", err)
		}
	}
	return nil
}

// linkCounters are one listener's counters, bound once so that the reader
// does no label lookup per packet.
type linkCounters struct {
	requests, ignored, replies, gratuitous, errors prometheus.Counter
}

func (m *Metrics) forKey(k key) linkCounters {
	lv := []string{k.iface, k.proto.String()}
	return linkCounters{
		requests:   m.Requests.WithLabelValues(lv...),
		ignored:    m.Ignored.WithLabelValues(lv...),
		replies:    m.Replies.WithLabelValues(lv...),
		gratuitous: m.Gratuitous.WithLabelValues(lv...),
		errors:     m.Errors.WithLabelValues(lv...),
	}
}

// forget drops the series of a listener that is gone for good, so that
// the series follow the interfaces in use rather than every one ever seen.
// A reader still counting on the dropped counters counts into nothing.
func (m *Metrics) forget(k key) {
	lv := []string{k.iface, k.proto.String()}
	for _, c := range []*prometheus.CounterVec{m.Requests, m.Ignored, m.Replies, m.Gratuitous, m.Errors} {
		c.DeleteLabelValues(lv...)
	}
}
