// Command labgobgp is the lab's second router: a GoBGP server (package
// gobgprouter) that accepts a session from each listed neighbour and
// serves what it received as JSON on a unix socket, so that tests read it
// without sending traffic into the lab.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/heraldlb/herald/e2etest/gobgprouter"
)

func main() {
	var cfg gobgprouter.Config
	var id, listen, neighbors, socket string
	var asn, peerASN uint
	flag.UintVar(&asn, "asn", 0, "the router's ASN")
	flag.UintVar(&peerASN, "peer-asn", 0, "every neighbour's ASN")
	flag.StringVar(&id, "router-id", "", "the router ID, an IPv4 address")
	flag.StringVar(&listen, "listen", "", "comma-separated addresses to accept sessions on, port 179")
	flag.StringVar(&neighbors, "neighbors", "", "comma-separated neighbour addresses")
	flag.StringVar(&cfg.Password, "password", "", "the TCP MD5 password of every neighbour")
	flag.DurationVar(&cfg.HoldTime, "hold-time", 90*time.Second, "the hold time the router proposes")
	flag.StringVar(&socket, "socket", "", "the unix socket to serve /paths and /neighbors on")
	flag.Parse()
	cfg.ASN, cfg.PeerASN = uint32(asn), uint32(peerASN)
	var err error
	if cfg.RouterID, err = netip.ParseAddr(id); err != nil {
		log.Fatalf("labgobgp: --router-id: %v", err)
	}
	if cfg.Listen, err = addrs(listen); err != nil {
		log.Fatalf("labgobgp: --listen: %v", err)
	}
	if cfg.Neighbors, err = addrs(neighbors); err != nil {
		log.Fatalf("labgobgp: --neighbors: %v", err)
	}
	if err := run(cfg, socket); err != nil {
		log.Fatalf("labgobgp: %v", err)
	}
}

func addrs(list string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range strings.Split(list, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// run serves BGP and the socket until SIGTERM or SIGINT.
func run(cfg gobgprouter.Config, socket string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	r := gobgprouter.New(cfg)
	_ = os.Remove(socket)
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", socket, err)
	}
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("labgobgp: serve %s: %v", socket, err)
		}
	}()
	defer srv.Close()
	return r.Run(ctx)
}
