package liveness

import (
	"log"
	"strings"

	"github.com/go-logr/logr"
)

// keyHint is added to every log line about a message that could not be
// decrypted: almost always a speaker with another key.
const keyHint = "a speaker with a different memberlist secret key (or not a Herald speaker) is talking to this one; every speaker must use the same key"

// logLevel is the severity memberlist writes at the start of a line.
type logLevel int

const (
	levelDebug logLevel = iota
	levelInfo
	levelWarn
	levelError
)

// parseLogLine splits one of memberlist's lines, "[LEVEL] memberlist: text",
// into a level and the text. A line without a level (memberlist has a few)
// counts as a warning, so that it is not hidden.
func parseLogLine(line string) (logLevel, string) {
	line = strings.TrimSpace(line)
	level := levelWarn
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, text, ok := strings.Cut(rest, "]"); ok {
			switch tag {
			case "DEBUG":
				level = levelDebug
			case "INFO":
				level = levelInfo
			case "WARN":
				level = levelWarn
			case "ERR", "ERROR":
				level = levelError
			}
			line = strings.TrimSpace(text)
		}
	}
	return level, strings.TrimPrefix(line, "memberlist: ")
}

// logWriter turns memberlist's std log output into logr calls: errors stay
// errors, warnings are V(0), its info (suspicions, verdicts) V(1), and its
// debug V(2), because our own "member joined/left" lines already say what
// matters at V(0).
type logWriter struct {
	log logr.Logger
}

func (w logWriter) Write(p []byte) (int, error) {
	level, text := parseLogLine(string(p))
	var kv []any
	if strings.Contains(strings.ToLower(text), "decrypt") {
		kv = append(kv, "hint", keyHint)
	}
	switch level {
	case levelError:
		w.log.Error(nil, text, kv...)
	case levelWarn:
		w.log.Info(text, kv...)
	case levelInfo:
		w.log.V(1).Info(text, kv...)
	default:
		w.log.V(2).Info(text, kv...)
	}
	return len(p), nil
}

// newStdLogger returns the *log.Logger memberlist writes to: one Printf, one
// Write, one logr call.
func newStdLogger(l logr.Logger) *log.Logger {
	return log.New(logWriter{log: l.WithName("memberlist")}, "", 0)
}
