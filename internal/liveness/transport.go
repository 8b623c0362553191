package liveness

import (
	"context"
	"fmt"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"
)

// wrapTransport lets a test put a transport between memberlist and the
// network, for example to drop packets between chosen speakers. It is a
// field of Liveness that only this package's tests set.
type wrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport

// netTransport is memberlist's UDP and TCP transport with dials bound to
// Run's context: when Run ends, rejoin attempts to unreachable peers give up
// at once instead of holding Run for up to TCPTimeout.
type netTransport struct {
	*memberlist.NetTransport
	ctx context.Context
}

var _ memberlist.NodeAwareTransport = netTransport{}

func newNetTransport(ctx context.Context, o Options, std *log.Logger) (netTransport, error) {
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{o.BindAddr.String()},
		BindPort:  o.BindPort,
		Logger:    std,
	})
	if err != nil {
		return netTransport{}, fmt.Errorf("listen on %s: %w", net.JoinHostPort(o.BindAddr.String(), strconv.Itoa(o.BindPort)), err)
	}
	return netTransport{NetTransport: nt, ctx: ctx}, nil
}

func (t netTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.DialContext(t.ctx, "tcp", addr)
}

func (t netTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}
