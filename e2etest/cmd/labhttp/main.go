// Command labhttp answers every HTTP request with the name of the lab node it
// runs on. Each lab node runs one in its namespace, behind the nftables rule
// that stands in for kube-proxy, so a curl from a client shows which node
// served it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"
)

func main() {
	name := flag.String("name", "", "the node name to answer with")
	listen := flag.String("listen", ":8080", "the address to listen on (IPv4 and IPv6)")
	flag.Parse()
	if *name == "" {
		log.Fatal("labhttp: --name is required")
	}
	srv := &http.Server{
		Addr: *listen,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, *name)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
