package soak

import (
	"strings"
	"testing"
	"time"
)

func TestWriteCSV(t *testing.T) {
	var b strings.Builder
	curves := []Curve{
		{Process: "node1", Samples: []Sample{{At: 10 * time.Second, RSS: 2048, HeapInuse: 1024, HeapGoal: 3000, Goroutines: 50}}},
		{Process: "node2", Samples: []Sample{{At: 10500 * time.Millisecond, RSS: 4096, HeapInuse: 512, HeapGoal: 1000, Goroutines: 51}}},
	}
	if err := WriteCSV(&b, curves); err != nil {
		t.Fatal(err)
	}
	want := "seconds,process,rss_bytes,heap_inuse_bytes,heap_goal_bytes,goroutines\n10.0,node1,2048,1024,3000,50\n10.5,node2,4096,512,1000,51\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
