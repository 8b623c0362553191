package liveness

import (
	"strings"
	"testing"
)

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line  string
		level logLevel
		text  string
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", levelDebug, "Stream connection from=127.0.0.1:1"},
		{"[INFO] memberlist: Suspect b has failed, no acks received", levelInfo, "Suspect b has failed, no acks received"},
		{"[WARN] memberlist: Refuting a suspect message (from: a)", levelWarn, "Refuting a suspect message (from: a)"},
		{"[ERR] memberlist: failed to receive: boom", levelError, "failed to receive: boom"},
		{"[ERROR] memberlist: Failed to compress payload: x", levelError, "Failed to compress payload: x"},
		// A few of memberlist's lines carry no level: not hidden.
		{"Err: Could not set the deadline: x", levelWarn, "Err: Could not set the deadline: x"},
		{"[ERR] Failed to shutdown transport: x", levelError, "Failed to shutdown transport: x"},
	} {
		level, text := parseLogLine(tc.line)
		if level != tc.level || text != tc.text {
			t.Errorf("parseLogLine(%q) = %v, %q; want %v, %q", tc.line, level, text, tc.level, tc.text)
		}
	}
}

func TestMemberlistLogsGoToLogr(t *testing.T) {
	rec := &logRecorder{}
	// The recorder keeps V(1) and below: memberlist's debug is dropped.
	std := newStdLogger(rec.logger())
	std.Printf("[DEBUG] memberlist: Initiating push/pull sync with: b 127.0.0.1:1")
	std.Printf("[INFO] memberlist: Marking b as failed, suspect timeout reached (1 peer confirmations)")
	std.Printf("[WARN] memberlist: Was able to connect to b over TCP but UDP probes failed, network may be misconfigured")
	std.Printf("[ERR] memberlist: failed to receive: no installed keys could decrypt the message from=127.0.0.1:2")

	for _, tc := range []struct {
		parts []string
		what  string
	}{
		{[]string{`memberlist "level"=1`, "Marking b as failed"}, "info at V(1)"},
		{[]string{`memberlist "level"=0`, "UDP probes failed"}, "a warning at V(0)"},
		{[]string{"memberlist", "no installed keys could decrypt", `"error"=null`, keyHint}, "an error with the key hint"},
	} {
		if _, ok := rec.find(tc.parts...); !ok {
			t.Errorf("no %s among:\n%s", tc.what, rec)
		}
	}
	if strings.Contains(rec.String(), "push/pull") {
		t.Errorf("debug line logged at V(1):\n%s", rec)
	}
}
