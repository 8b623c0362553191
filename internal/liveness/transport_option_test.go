package liveness

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/memberlist"
)

// TestTransportOption runs two speakers on memberlist's in-memory network:
// with Options.Transport set, Run opens no socket and gossips through the
// transport it is given.
func TestTransportOption(t *testing.T) {
	var mock memberlist.MockNetwork
	lo := netip.MustParseAddr("127.0.0.1")
	var nodes []*Liveness
	for i, name := range []string{"a", "b"} {
		tr := mock.NewTransport(name) // 127.0.0.1:1, then :2
		l, err := New(Options{
			Name: name, AdvertiseAddr: lo, AdvertisePort: i + 1, SecretKey: testKey, Log: logr.Discard(),
			Transport: func() (memberlist.NodeAwareTransport, error) { return tr, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, l)
	}
	if err := nodes[1].Set(Desired{Peers: []netip.AddrPort{netip.AddrPortFrom(lo, 1)}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, len(nodes))
	for _, l := range nodes {
		go func() { done <- l.Run(ctx) }()
	}
	defer func() {
		cancel()
		for range nodes {
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}()
	waitFor(t, 5*time.Second, "both to see both", func() bool {
		for _, l := range nodes {
			if !slices.Equal(memberNames(l.Members()), []string{"a", "b"}) {
				return false
			}
		}
		return true
	})
}
