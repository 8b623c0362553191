package bgp

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// monitor keeps what is known about one open session: its state, why it
// is not up, and its metrics. GoBGP's goroutines report to it (peer
// events, log lines); the speaker's loop tells it how many prefixes the
// session has; Status reads it. It is the only state shared between
// goroutines, hence the mutex.
type monitor struct {
	session Session
	clock   clock.PassiveClock
	log     logr.Logger
	metrics *Metrics

	mu        sync.Mutex
	closed    bool
	state     string
	since     time.Time
	lastError string
	// refused is why we reset the last session that came up. It stays
	// the reason until a session is accepted: the connection errors that
	// follow our own reset say nothing new.
	refused string
	// families are the negotiated families while established.
	families []Family
	// prefixes counts the session's applied paths by family.
	prefixes map[Family]int
}

func newMonitor(s Session, clk clock.PassiveClock, log logr.Logger, m *Metrics) *monitor {
	mon := &monitor{
		session:  s,
		clock:    clk,
		log:      log.WithValues("peer", s.Name, "address", s.PeerAddress),
		metrics:  m,
		state:    "idle",
		since:    clk.Now(),
		prefixes: map[Family]int{},
	}
	if s.Passive {
		mon.lastError = fmt.Sprintf("passive: waiting for the router to connect to %s", s.SourceAddress)
	}
	m.opened(s)
	m.SessionUp.WithLabelValues(s.Name).Set(0)
	m.PrefixesAdvertised.WithLabelValues(s.Name).Set(0)
	m.UpdatesSent.WithLabelValues(s.Name)
	return mon
}

// peerState records a state change reported by GoBGP. negotiated is
// meaningful for "established" only.
func (m *monitor) peerState(state string, negotiated []Family) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || state == m.state {
		return
	}
	wasUp := m.state == "established"
	m.state, m.since = state, m.clock.Now()
	m.families = nil
	if state == "established" {
		m.families = slices.Clone(negotiated)
		m.lastError, m.refused = "", ""
		m.log.Info("BGP session established", "families", negotiated)
	} else if wasUp {
		m.log.Info("BGP session down", "state", state)
	}
	m.publish()
}

// failure records why the session is not up. It logs only when the
// reason changes, not at every retry.
func (m *monitor) failure(reason string) {
	if reason == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || reason == m.lastError || m.refused != "" {
		return
	}
	m.lastError = reason
	m.log.Info("BGP session not up", "reason", reason)
}

// refuse records that a session which came up is being reset by us, and
// why. The session is never reported established.
func (m *monitor) refuse(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || reason == m.refused {
		return
	}
	m.refused, m.lastError = reason, reason
	m.log.Info("BGP session not up", "reason", reason)
}

func (m *monitor) updateSent() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.metrics.UpdatesSent.WithLabelValues(m.session.Name).Inc()
	}
}

// setPrefixes records how many paths the session has, by family.
func (m *monitor) setPrefixes(counts map[Family]int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prefixes = counts
	m.publish()
}

// sent is the number of prefixes advertised. Callers hold mu.
func (m *monitor) sent() int {
	n := 0
	if m.state == "established" {
		for _, f := range m.families {
			n += m.prefixes[f]
		}
	}
	return n
}

// publish updates the gauges. Callers hold mu.
func (m *monitor) publish() {
	if m.closed {
		return
	}
	up := 0.0
	if m.state == "established" {
		up = 1
	}
	m.metrics.SessionUp.WithLabelValues(m.session.Name).Set(up)
	m.metrics.PrefixesAdvertised.WithLabelValues(m.session.Name).Set(float64(m.sent()))
}

func (m *monitor) status() PeerStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return PeerStatus{
		Name:         m.session.Name,
		PeerAddress:  m.session.PeerAddress,
		State:        m.state,
		Established:  m.state == "established",
		Since:        m.since,
		LastError:    m.lastError,
		PrefixesSent: m.sent(),
		Families:     slices.Clone(m.families),
	}
}

// close stops the monitor: later reports are ignored, and the session's
// metrics are removed.
func (m *monitor) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.metrics.forget(m.session.Name)
}
