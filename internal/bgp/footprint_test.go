package bgp

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
)

// TestServerFootprint measures what a session costs in this design, one
// GoBGP server per session: goroutines and heap for sessions that are
// configured but not up (nothing listens), which is the part a shared
// server would save. It logs the figures and checks that closing the
// sessions gives the memory back and keeps the servers for reuse.
func TestServerFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory: not in -short")
	}
	const n = 50
	nowhere := &router{addr: netip.MustParseAddr("127.0.0.1"), port: freePort(t, netip.MustParseAddr("127.0.0.1")), asn: routerASN}
	h := startSpeaker(t)
	var d Desired
	d.Paths = map[string][]Path{}
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		d.Sessions = append(d.Sessions, nowhere.session(name, fmt.Sprintf("127.0.0.%d", 10+i)))
		d.Paths[name] = []Path{path(fmt.Sprintf("198.51.100.%d/32", i))}
	}
	g0, m0 := goroutinesAndHeap()
	h.set(d)
	g1, m1 := goroutinesAndHeap()
	h.set(Desired{})
	g2, m2 := goroutinesAndHeap()
	t.Logf("per open session: %.1f goroutines, %.0f KiB of heap", float64(g1-g0)/n, float64(m1-m0)/n/1024)
	t.Logf("per closed session (its server idle, kept for reuse): %.1f goroutines, %.0f KiB of heap", float64(g2-g0)/n, float64(m2-m0)/n/1024)
	if _, idle := h.inspect(); len(idle) != n {
		t.Errorf("%d idle servers, want %d", len(idle), n)
	}
	h.set(d)
	g3, _ := goroutinesAndHeap()
	if g3 > g1 {
		t.Errorf("reopening %d sessions took %d goroutines more than opening them the first time: servers not reused", n, g3-g1)
	}
}

func goroutinesAndHeap() (int, int64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), int64(m.HeapAlloc)
}
