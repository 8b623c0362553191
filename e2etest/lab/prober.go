package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ProbeRecord is one line of labprobe's output: a probe, or an ARP or NDP
// announcement seen on the client's link.
type ProbeRecord struct {
	Kind string    `json:"kind"` // "ready", "probe" or "announce"
	At   time.Time `json:"at"`
	// Probes.
	OK   bool   `json:"ok,omitempty"`
	Node string `json:"node,omitempty"`
	Err  string `json:"err,omitempty"`
	// Announcements: the protocol ("arp", "ndp"), the MAC named as the IP's
	// owner, and whether it was unsolicited (gratuitous ARP, or an NA
	// without the Solicited flag).
	Proto       string `json:"proto,omitempty"`
	MAC         string `json:"mac,omitempty"`
	Unsolicited bool   `json:"unsolicited,omitempty"`
	// From is the frame's source MAC: the node that sent it, which for a
	// handover is not the node it names.
	From string `json:"from,omitempty"`
}

// ProberOptions shape a prober.
type ProberOptions struct {
	// Interval between probes (default 50ms), Timeout of each (default
	// 300ms), and Duration after which it stops by itself (default 60s).
	Interval, Timeout, Duration time.Duration
	// Watch captures ARP and NDP about the address on the client's link.
	Watch bool
	// NoProbe only captures.
	NoProbe bool
}

// Prober is labprobe running in a client namespace.
type Prober struct {
	proc *Proc
}

var probers atomic.Int64

// StartProber starts labprobe in the client namespace ns against
// addr:port, and returns once it is capturing and probing. It stops by
// itself after o.Duration.
func (l *Lab) StartProber(ctx context.Context, ns string, addr netip.Addr, port uint16, o ProberOptions) (*Prober, error) {
	if o.Interval == 0 {
		o.Interval = 50 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 300 * time.Millisecond
	}
	if o.Duration == 0 {
		o.Duration = 60 * time.Second
	}
	args := []string{filepath.Join(StateDir, "bin", "labprobe"), "-target", netip.AddrPortFrom(addr, port).String(),
		"-interval", o.Interval.String(), "-timeout", o.Timeout.String(), "-duration", o.Duration.String()}
	if o.Watch {
		args = append(args, "-watch", ClientIface)
	}
	if o.NoProbe {
		args = append(args, "-no-probe")
	}
	p, err := startProc(fmt.Sprintf("probe-%d", probers.Add(1)), ns, nil, args...)
	if err != nil {
		return nil, err
	}
	pr := &Prober{proc: p}
	err = waitFor(ctx, 10*time.Second, func() bool {
		recs, _ := pr.read()
		return len(recs) > 0 && recs[0].Kind == "ready"
	})
	if err != nil {
		p.Stop(time.Second)
		return nil, fmt.Errorf("labprobe did not start: %w\n%s", err, p.LogTail(10))
	}
	return pr, nil
}

// Stop stops the prober and returns what it saw.
func (p *Prober) Stop() (ProbeLog, error) {
	_ = syscall.Kill(-p.proc.Pid(), syscall.SIGTERM)
	p.proc.Stop(5 * time.Second)
	recs, err := p.read()
	if err != nil {
		return ProbeLog{}, err
	}
	// Probes run side by side and print as they finish: order them by
	// when they started.
	slices.SortStableFunc(recs, func(a, b ProbeRecord) int { return a.At.Compare(b.At) })
	var out ProbeLog
	for _, r := range recs {
		switch r.Kind {
		case "probe":
			out.Probes = append(out.Probes, r)
		case "announce":
			out.Announcements = append(out.Announcements, r)
		}
	}
	return out, nil
}

func (p *Prober) read() ([]ProbeRecord, error) {
	f, err := os.Open(p.proc.Log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ProbeRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var r ProbeRecord
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// ProbeLog is what a prober saw, in time order.
type ProbeLog struct {
	Probes        []ProbeRecord
	Announcements []ProbeRecord
}

// Failed counts the failed probes.
func (l ProbeLog) Failed() int {
	n := 0
	for _, p := range l.Probes {
		if !p.OK {
			n++
		}
	}
	return n
}

// Failures describes each failed probe, with its time from t, and each
// announcement from a second before the first failure to a second after
// the last: what a failure came with.
func (l ProbeLog) Failures(t time.Time) []string {
	var out []string
	var first, last time.Time
	for _, p := range l.Probes {
		if !p.OK {
			out = append(out, fmt.Sprintf("probe at %+v failed: %s", p.At.Sub(t).Round(time.Millisecond), p.Err))
			if first.IsZero() {
				first = p.At
			}
			last = p.At
		}
	}
	for _, a := range l.Announcements {
		if !first.IsZero() && a.At.After(first.Add(-time.Second)) && a.At.Before(last.Add(time.Second)) {
			out = append(out, fmt.Sprintf("%s at %+v naming %s from %s (unsolicited %v)", a.Proto, a.At.Sub(t).Round(time.Millisecond), a.MAC, a.From, a.Unsolicited))
		}
	}
	return out
}

// Straddled counts the failed probes begun before switch, less than a
// probe timeout before it, whose connection was reset: connections in
// flight when the client moved to another node's MAC, which that node
// reset for want of a socket.
func (l ProbeLog) Straddled(switched time.Time) int {
	n := 0
	for _, p := range l.Probes {
		if !p.OK && !p.At.After(switched) && switched.Sub(p.At) < 300*time.Millisecond && strings.Contains(p.Err, "connection reset by peer") {
			n++
		}
	}
	return n
}

// Outage is the longest time the client could not reach the IP: from the
// last good probe before a run of failures to the first good one after it.
// A run that never ends counts until the last probe; recovered says
// whether every run ended.
func (l ProbeLog) Outage() (outage time.Duration, recovered bool) {
	recovered = true
	var lastOK time.Time
	failing := false
	for _, p := range l.Probes {
		switch {
		case p.OK && failing:
			outage = max(outage, p.At.Sub(lastOK))
			failing = false
			lastOK = p.At
		case p.OK:
			lastOK = p.At
		case !failing:
			failing = true
			if lastOK.IsZero() {
				lastOK = p.At
			}
		}
	}
	if failing && len(l.Probes) > 0 {
		outage = max(outage, l.Probes[len(l.Probes)-1].At.Sub(lastOK))
		recovered = false
	}
	return outage, recovered
}

// FirstUnsolicited returns the first unsolicited announcement after t
// naming mac (any MAC when mac is empty), and when from is set, sent by
// from.
func (l ProbeLog) FirstUnsolicited(t time.Time, mac, from string) (ProbeRecord, bool) {
	for _, a := range l.Announcements {
		if a.Unsolicited && !a.At.Before(t) && (mac == "" || strings.EqualFold(a.MAC, mac)) && (from == "" || strings.EqualFold(a.From, from)) {
			return a, true
		}
	}
	return ProbeRecord{}, false
}

// Nodes counts the successful probes per node that served them.
func (l ProbeLog) Nodes() map[string]int {
	out := map[string]int{}
	for _, p := range l.Probes {
		if p.OK {
			out[p.Node]++
		}
	}
	return out
}
