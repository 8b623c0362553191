package liveness

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestDialsEndWithRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })

	ctx, cancel := context.WithCancel(t.Context())
	tr := netTransport{ctx: ctx}
	conn, err := tr.DialTimeout(ln.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("dial while running: %v", err)
	}
	_ = conn.Close()

	cancel()
	start := time.Now()
	if _, err := tr.DialTimeout(ln.Addr().String(), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("dial after Run's context ended: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("dial after Run's context ended took %v", d)
	}
}
