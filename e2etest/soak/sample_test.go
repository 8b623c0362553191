package soak

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      Sample
		wantError string
	}{
		{
			name: "both present, among others",
			in: "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 57\n" +
				"go_memstats_heap_inuse_bytes 1.2582912e+07\ngo_memstats_heap_inuse_bytes_total 1\ngo_memstats_next_gc_bytes 2.2e+07\nherald_x{a=\"b\"} 3\n",
			want: Sample{HeapInuse: 12582912, HeapGoal: 22000000, Goroutines: 57},
		},
		{name: "goroutines missing", in: "go_memstats_heap_inuse_bytes 1\ngo_memstats_next_gc_bytes 1\n", wantError: "lack go_goroutines"},
		{name: "heap goal missing", in: "go_memstats_heap_inuse_bytes 1\ngo_goroutines 1\n", wantError: "lack go_memstats_next_gc_bytes"},
		{name: "not a number", in: "go_goroutines many\n", wantError: "parse go_goroutines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetrics(strings.NewReader(tt.in))
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want %q", err, tt.wantError)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	got, err := parseRSS(strings.NewReader("Name:\tspeaker\nVmHWM:\t  9000 kB\nVmRSS:\t   81234 kB\n"))
	if err != nil || got != 81234<<10 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseRSS(strings.NewReader("Name:\tzombie\n")); err == nil {
		t.Fatal("no VmRSS: want an error")
	}
}
