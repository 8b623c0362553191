package testenv

import (
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// LogLines keeps every line a logger writes, so that a test can wait for
// one. It never writes to a testing.T itself: goroutines may still log
// after the test has ended.
type LogLines struct {
	mu    sync.Mutex
	lines []string
}

// Logger returns a logger into l that keeps lines up to verbosity.
func (l *LogLines) Logger(verbosity int) logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, prefix+" "+args)
	}, funcr.Options{Verbosity: verbosity})
}

// Find returns the first line that contains every one of parts.
func (l *LogLines) Find(parts ...string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(s, p) }) {
			return s, true
		}
	}
	return "", false
}

// String is every line, one a line.
func (l *LogLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
