package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
	"time"
)

// servePprof serves the profiles on addr until the process exits: a heap
// profile tells the simulation's own memory (queues, pipes) from
// memberlist's.
func servePprof(addr string) {
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "gossipsim: pprof:", err)
	}
}
