package soak

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// Curve is one process's samples.
type Curve struct {
	Process string
	Samples []Sample
}

// WriteCSV writes the curves of one binary, one row per sample, with the
// time in seconds since the soak started.
func WriteCSV(w io.Writer, curves []Curve) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seconds", "process", "rss_bytes", "heap_inuse_bytes", "heap_goal_bytes", "goroutines"})
	for _, c := range curves {
		for _, s := range c.Samples {
			_ = cw.Write([]string{strconv.FormatFloat(s.At.Seconds(), 'f', 1, 64), c.Process,
				strconv.FormatInt(s.RSS, 10), strconv.FormatInt(s.HeapInuse, 10), strconv.FormatInt(s.HeapGoal, 10), strconv.Itoa(s.Goroutines)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
