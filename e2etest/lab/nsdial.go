package lab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/vishvananda/netns"
)

// HTTPClientIn returns an HTTP client whose connections are opened inside
// the network namespace ns, so that a benchmark in the root namespace can
// read a speaker's loopback-only metrics and pprof: the traffic stays on
// the namespace's own loopback, and the root namespace needs no route to
// the lab.
func HTTPClientIn(ns string) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialIn(ctx, ns, network, addr)
	}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// dialIn opens the socket on a thread switched into ns and switches the
// thread back; a socket keeps the namespace it was made in.
func dialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("read this thread's network namespace: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("open network namespace %s: %w", ns, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("enter network namespace %s: %w", ns, err)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if rerr := netns.Set(orig); rerr != nil {
		// The thread stays locked, so it ends with this goroutine instead
		// of running others in the wrong namespace.
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("leave network namespace %s: %w", ns, rerr)
	}
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("dial %s in %s: %w", addr, ns, err)
	}
	return conn, nil
}
