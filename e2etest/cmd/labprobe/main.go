// Command labprobe measures what a client sees of a Service IP: it runs in
// a lab client's namespace, makes a new TCP connection and HTTP request to
// the IP every interval, and records who answered. With -watch it also
// captures, on the client's interface, every ARP packet and Neighbor
// Advertisement about the IP, so that a test can time gratuitous
// announcements. It prints one JSON object per line and stops after
// -duration, or at SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"

	"github.com/heraldlb/herald/e2etest/lab"
)

func main() {
	target := flag.String("target", "", "address:port to probe")
	interval := flag.Duration("interval", 50*time.Millisecond, "time between probes")
	timeout := flag.Duration("timeout", 300*time.Millisecond, "time a probe may take")
	duration := flag.Duration("duration", 30*time.Second, "stop after this long")
	watch := flag.String("watch", "", "interface to capture ARP and NDP about the target's IP on")
	noProbe := flag.Bool("no-probe", false, "only capture")
	ask := flag.String("ask", "", "send one ARP request (IPv4) or Neighbor Solicitation (IPv6) for the target's IP on this interface, print every answer within -window, and exit")
	window := flag.Duration("window", 500*time.Millisecond, "how long -ask collects answers")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*target)
	if err != nil {
		log.Fatalf("labprobe: -target: %v", err)
	}
	if *ask != "" {
		if err := askOnce(*ask, ap.Addr(), *window, &output{enc: json.NewEncoder(os.Stdout)}); err != nil {
			log.Fatalf("labprobe: ask %s on %s: %v", ap.Addr(), *ask, err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	out := &output{enc: json.NewEncoder(os.Stdout)}
	var wg sync.WaitGroup
	if *watch != "" {
		ready := make(chan error, 1)
		wg.Add(1)
		go func() { defer wg.Done(); capture(ctx, *watch, ap.Addr(), out, ready) }()
		if err := <-ready; err != nil {
			log.Fatalf("labprobe: capture on %s: %v", *watch, err)
		}
	}
	out.write(lab.ProbeRecord{Kind: "ready", At: time.Now()})
	if !*noProbe {
		probe(ctx, ap, *interval, *timeout, out)
	}
	<-ctx.Done()
	wg.Wait()
}

type output struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (o *output) write(r lab.ProbeRecord) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.enc.Encode(r)
}

// probe starts one request per interval, each on a new connection so that
// every probe goes through the client's neighbour cache afresh, and each
// on its own schedule: a probe that hangs until its timeout does not hold
// the next ones back, so an outage is seen to within one interval.
func probe(ctx context.Context, ap netip.AddrPort, interval, timeout time.Duration, out *output) {
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + ap.String() + "/"
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		wg.Add(1)
		go func(at time.Time) {
			defer wg.Done()
			r := lab.ProbeRecord{Kind: "probe", At: at}
			resp, err := client.Get(url)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				err = rerr
				r.Node = strings.TrimSpace(string(body))
			}
			r.OK = err == nil
			if err != nil {
				r.Err = err.Error()
			}
			out.write(r)
		}(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// capture records every ARP packet whose sender is ip, and every Neighbor
// Advertisement whose target is ip, with the MAC it names.
func capture(ctx context.Context, iface string, ip netip.Addr, out *output, ready chan<- error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		ready <- err
		return
	}
	proto := 0x0806 // ARP
	if ip.Is6() {
		proto = 0x86dd // IPv6
	}
	c, err := packet.Listen(ifi, packet.Raw, proto, nil)
	if err != nil {
		ready <- err
		return
	}
	ready <- nil
	go func() { <-ctx.Done(); c.Close() }()
	buf := make([]byte, ifi.MTU+64)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "labprobe: capture:", err)
			}
			return
		}
		at := time.Now()
		var f ethernet.Frame
		if err := f.UnmarshalBinary(buf[:n]); err != nil {
			continue
		}
		if r, ok := parse(f, ip); ok {
			r.Kind, r.At, r.From = "announce", at, f.Source.String()
			out.write(r)
		}
	}
}

func parse(f ethernet.Frame, ip netip.Addr) (lab.ProbeRecord, bool) {
	if ip.Is4() {
		var p arp.Packet
		if f.EtherType != ethernet.EtherTypeARP || p.UnmarshalBinary(f.Payload) != nil || p.SenderIP != ip {
			return lab.ProbeRecord{}, false
		}
		return lab.ProbeRecord{Proto: "arp", MAC: p.SenderHardwareAddr.String(), Unsolicited: p.TargetIP == ip}, true
	}
	// IPv6: a fixed 40-byte header, and NDP never carries extension headers.
	b := f.Payload
	if f.EtherType != ethernet.EtherTypeIPv6 || len(b) < 40 || b[6] != 58 {
		return lab.ProbeRecord{}, false
	}
	m, err := ndp.ParseMessage(b[40:])
	na, ok := m.(*ndp.NeighborAdvertisement)
	if err != nil || !ok || na.TargetAddress != ip {
		return lab.ProbeRecord{}, false
	}
	for _, o := range na.Options {
		if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
			return lab.ProbeRecord{Proto: "ndp", MAC: lla.Addr.String(), Unsolicited: !na.Solicited}, true
		}
	}
	return lab.ProbeRecord{}, false
}

// askOnce sends one request for ip and prints every answer to it that
// arrives within window, one line per answer. Unlike arping's repeated
// requests, all answers belong to one moment, so two lines mean two nodes
// answering at once.
func askOnce(iface string, ip netip.Addr, window time.Duration, out *output) error {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(window)
	if ip.Is4() {
		c, err := arp.Dial(ifi)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Request(ip); err != nil {
			return err
		}
		if err := c.SetReadDeadline(deadline); err != nil {
			return err
		}
		for {
			p, _, err := c.Read()
			if err != nil {
				return nil // the window ended
			}
			if p.Operation == arp.OperationReply && p.SenderIP == ip {
				out.write(lab.ProbeRecord{Kind: "answer", At: time.Now(), Proto: "arp", MAC: p.SenderHardwareAddr.String()})
			}
		}
	}
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		return err
	}
	defer c.Close()
	dst, err := ndp.SolicitedNodeMulticast(ip)
	if err != nil {
		return err
	}
	ns := &ndp.NeighborSolicitation{TargetAddress: ip, Options: []ndp.Option{
		&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr},
	}}
	if err := c.WriteTo(ns, nil, dst); err != nil {
		return err
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return err
	}
	for {
		m, _, _, err := c.ReadFrom()
		if err != nil {
			return nil
		}
		// Only a solicited advertisement answers the request, as only an
		// ARP reply does for IPv4: an unsolicited one (Solicited clear) is a
		// gratuitous announcement, which a node that hands an IP over sends
		// naming its successor's MAC, and would count as that node
		// answering.
		na, ok := m.(*ndp.NeighborAdvertisement)
		if !ok || na.TargetAddress != ip || !na.Solicited {
			continue
		}
		for _, o := range na.Options {
			if lla, ok := o.(*ndp.LinkLayerAddress); ok && lla.Direction == ndp.Target {
				out.write(lab.ProbeRecord{Kind: "answer", At: time.Now(), Proto: "ndp", MAC: lla.Addr.String()})
			}
		}
	}
}
