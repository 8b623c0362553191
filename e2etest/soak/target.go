package soak

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Target is one process to sample.
type Target struct {
	// Binary groups processes into one CSV and plot ("controller",
	// "speaker"); Process names this one ("node1").
	Binary, Process string
	Pid             int
	// MetricsURL serves the Prometheus text; PprofURL, if set, is the
	// /debug/pprof/ base that profiles are saved from at the end.
	MetricsURL, PprofURL string
	// Client reaches both URLs (a speaker's are in its namespace).
	Client *http.Client
}

// Read takes one sample of the target.
func (t Target) Read(ctx context.Context, at time.Duration) (Sample, error) {
	rss, err := ReadRSS(t.Pid)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", t.Process, err)
	}
	body, err := t.get(ctx, t.MetricsURL)
	if err != nil {
		return Sample{}, err
	}
	defer body.Close()
	s, err := ParseMetrics(body)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", t.Process, err)
	}
	s.At, s.RSS = at, rss
	return s, nil
}

func (t Target) get(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Process, err)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: get %s: %w", t.Process, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: get %s: %s", t.Process, url, resp.Status)
	}
	return resp.Body, nil
}

// SaveProfiles writes the target's heap profile and goroutine dump to dir,
// as PROCESS.heap.pb.gz and PROCESS.goroutines.txt, for `go tool pprof`.
func (t Target) SaveProfiles(ctx context.Context, dir string) error {
	if t.PprofURL == "" {
		return nil
	}
	for _, p := range []struct{ path, file string }{
		{"heap", t.Process + ".heap.pb.gz"},
		{"goroutine?debug=1", t.Process + ".goroutines.txt"},
	} {
		if err := t.save(ctx, t.PprofURL+p.path, filepath.Join(dir, p.file)); err != nil {
			return err
		}
	}
	return nil
}

func (t Target) save(ctx context.Context, url, file string) error {
	body, err := t.get(ctx, url)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("save profile %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save profile %s: %w", file, err)
	}
	return nil
}
