package layer2

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldlb/herald/internal/metallbcompat"
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

	// ByIP are MetalLB's per-IP counters, by the label ip: requests
	// answered, replies sent and gratuitous packets naming this node's MAC.
	// Herald's own counters are per interface; these exist only under
	// MetalLB's names (internal/layer2/stats.go there), for its dashboards.
	// An IP's series go when the Announcer stops answering for it.
	ByIP ipCounters
}

// ipCounters are the per-IP counters.
type ipCounters struct {
	Requests, Replies, Gratuitous *prometheus.CounterVec
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
		ByIP: ipCounters{
			Requests:   metallbCounter("requests_received", "Number of layer2 requests received for owned IPs"),
			Replies:    metallbCounter("responses_sent", "Number of layer2 responses sent for owned IPs in response to requests"),
			Gratuitous: metallbCounter("gratuitous_sent", "Number of gratuitous layer2 packets sent for owned IPs as a result of failovers"),
		},
	}
}

func metallbCounter(name, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "metallb", Subsystem: "layer2", Name: name, Help: help,
	}, []string{"ip"})
}

// keepIPs drops the per-IP series of every IP not in applied. It reads the
// series rather than remembering the IPs, so that a reader that counted for
// an IP just given up (it read the owned set before Set replaced it) has
// its series dropped at the next Set.
func (m *Metrics) keepIPs(applied []Announcement) {
	keep := map[string]bool{}
	for _, a := range applied {
		keep[a.IP.String()] = true
	}
	for _, c := range []*prometheus.CounterVec{m.ByIP.Requests, m.ByIP.Replies, m.ByIP.Gratuitous} {
		for _, ip := range metallbcompat.LabelValues(c, "ip") {
			if !keep[ip] {
				c.DeleteLabelValues(ip)
			}
		}
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Requests, m.Ignored, m.Replies, m.Gratuitous, m.Errors, m.ByIP.Requests, m.ByIP.Replies, m.ByIP.Gratuitous} {
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
	byIP                                           ipCounters
}

func (m *Metrics) forKey(k key) linkCounters {
	lv := []string{k.iface, k.proto.String()}
	return linkCounters{
		requests:   m.Requests.WithLabelValues(lv...),
		ignored:    m.Ignored.WithLabelValues(lv...),
		replies:    m.Replies.WithLabelValues(lv...),
		gratuitous: m.Gratuitous.WithLabelValues(lv...),
		errors:     m.Errors.WithLabelValues(lv...),
		byIP:       m.ByIP,
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
