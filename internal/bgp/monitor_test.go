package bgp

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestMonitor(t *testing.T) {
	log, lines := newLog(t, 1)
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	metrics := NewMetrics()
	m := newMonitor(validSession("tor"), clk, log, metrics)
	logged := func(msg string) int { return len(lines.matching(msg)) }

	if st := m.status(); st.State != "idle" || st.Established || !st.Since.Equal(clk.Now()) || st.LastError != "" {
		t.Errorf("new monitor: %+v", st)
	}

	m.failure("refused")
	m.failure("refused")
	m.failure("")
	if n := logged("BGP session not up"); n != 1 || m.status().LastError != "refused" {
		t.Errorf("the same failure twice: %d log lines, LastError %q; want 1, refused", n, m.status().LastError)
	}
	m.failure("timeout")
	if n := logged("BGP session not up"); n != 2 {
		t.Errorf("a new failure: %d log lines, want 2", n)
	}

	m.setPrefixes(map[Family]int{IPv4Unicast: 3, IPv6Unicast: 2})
	if st := m.status(); st.PrefixesSent != 0 || gaugeValue(t, metrics.PrefixesAdvertised, "tor") != 0 {
		t.Errorf("prefixes counted before the session is up: %+v", st)
	}
	clk.SetTime(clk.Now().Add(time.Minute))
	m.peerState("established", []Family{IPv4Unicast})
	st := m.status()
	if !st.Established || st.LastError != "" || st.PrefixesSent != 3 || !st.Since.Equal(clk.Now()) {
		t.Errorf("established: %+v, want no error, 3 IPv4 prefixes sent, since now", st)
	}
	if gaugeValue(t, metrics.SessionUp, "tor") != 1 || gaugeValue(t, metrics.PrefixesAdvertised, "tor") != 3 {
		t.Error("gauges not updated on establishment")
	}
	m.failure("timeout")
	if n := logged("BGP session not up"); n != 3 {
		t.Errorf("a failure after the session was up: %d log lines, want 3", n)
	}

	m.peerState("idle", nil)
	if st := m.status(); st.Established || st.PrefixesSent != 0 || len(st.Families) != 0 || logged("BGP session down") != 1 {
		t.Errorf("down again: %+v", st)
	}
	m.updateSent()
	if v := counterValue(t, metrics.UpdatesSent, "tor"); v != 1 {
		t.Errorf("updates_sent_total = %v, want 1", v)
	}

	m.close()
	if n := seriesCount(t, metrics); n != 0 {
		t.Errorf("%d series left after close", n)
	}
	m.peerState("established", []Family{IPv4Unicast})
	m.updateSent()
	m.failure("late")
	if n := seriesCount(t, metrics); n != 0 || m.status().Established || m.status().LastError == "late" {
		t.Errorf("a closed monitor took reports: %d series, %+v", n, m.status())
	}
}

func TestPassiveMonitorWaits(t *testing.T) {
	log, _ := newLog(t, 1)
	s := validSession("tor", func(s *Session) { s.Passive, s.SourceAddress = true, s.NextHop6 })
	m := newMonitor(s, clocktesting.NewFakePassiveClock(time.Time{}), log, NewMetrics())
	if got := m.status().LastError; got != "passive: waiting for the router to connect to 2001:db8::1" {
		t.Errorf("LastError %q", got)
	}
}

// TestRefusedSessionKeepsItsReason: after we reset a session ourselves,
// the connection errors that follow say nothing new, so the refusal stays
// the reason, logged once, until a session is accepted.
func TestRefusedSessionKeepsItsReason(t *testing.T) {
	log, lines := newLog(t, 1)
	m := newMonitor(validSession("tor"), clocktesting.NewFakePassiveClock(time.Time{}), log, NewMetrics())
	m.refuse("wrong ASN")
	m.failure("the router closed the TCP connection")
	m.peerState("idle", nil)
	m.refuse("wrong ASN")
	if st := m.status(); st.Established || st.LastError != "wrong ASN" {
		t.Errorf("refused: %+v, want not established, LastError wrong ASN", st)
	}
	if n := len(lines.matching("BGP session not up")); n != 1 {
		t.Errorf("%d log lines about the failure, want 1", n)
	}
	m.peerState("established", []Family{IPv4Unicast})
	m.failure("timeout")
	if st := m.status(); st.LastError != "timeout" {
		t.Errorf("after an accepted session: LastError %q, want timeout", st.LastError)
	}
}
