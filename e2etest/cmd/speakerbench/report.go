package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heraldlb/herald/e2etest/measure"
)

// report collects the rounds of each figure and the verdicts.
type report struct {
	lines  []string
	missed int
}

func (r *report) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	fmt.Println(line) // the rounds as they come
	r.lines = append(r.lines, line)
}

// judge records a figure's rounds and summary, and whether target holds.
func (r *report) judge(what string, ds []time.Duration, verdict string, ok bool) {
	s := measure.Summarize(ds)
	mark := "MET"
	if !ok {
		mark = "MISSED"
		r.missed++
	}
	r.logf("%s: %s; rounds: %s", what, s, measure.Rounds(ds))
	r.logf("  target %s: %s", verdict, mark)
}

// note records a figure without a target.
func (r *report) note(format string, args ...any) { r.logf("  "+format, args...) }

func (r *report) print(w io.Writer) {
	fmt.Fprintln(w, "\n== speakerbench summary ==")
	fmt.Fprintln(w, strings.Join(r.lines, "\n"))
}
