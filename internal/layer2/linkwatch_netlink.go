package layer2

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dumpAttempts bounds how often a listing interrupted by a concurrent
// change is retried before it counts as a failure.
const dumpAttempts = 3

// netlinkSource reads links from rtnetlink in one network namespace, the
// one of the thread that opened it, so that re-subscribing later from
// another thread still watches the same namespace.
type netlinkSource struct {
	log    logr.Logger
	ns     netns.NsHandle
	handle *netlink.Handle
}

func openNetlinkSource(log logr.Logger) (linkSource, error) {
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("get network namespace: %w", err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open netlink: %w", err), ns.Close())
	}
	return &netlinkSource{log: log, ns: ns, handle: h}, nil
}

func (s *netlinkSource) close() {
	s.handle.Close()
	if err := s.ns.Close(); err != nil {
		s.log.Error(err, "Closing the network namespace handle")
	}
}

func (s *netlinkSource) subscribe(ctx context.Context) (<-chan struct{}, error) {
	// netlink's reader goroutines block sending to these channels, so they
	// are drained until netlink closes them.
	links := make(chan netlink.LinkUpdate, 64)
	addrs := make(chan netlink.AddrUpdate, 64)
	done := make(chan struct{})
	report := func(err error) { s.log.V(1).Info("Netlink subscription reported an error", "error", err.Error()) }
	err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{Namespace: &s.ns, ErrorCallback: report})
	if err != nil {
		close(done)
		return nil, fmt.Errorf("subscribe to links: %w", err)
	}
	err = netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{Namespace: &s.ns, ErrorCallback: report})
	if err != nil {
		close(done)
		for range links {
		}
		return nil, fmt.Errorf("subscribe to addresses: %w", err)
	}
	events := make(chan struct{}, 1)
	go func() {
		defer close(events)
		defer func() {
			close(done)
			for range links {
			}
			for range addrs {
			}
		}()
		for {
			var ok bool
			select {
			case <-ctx.Done():
				return
			case _, ok = <-links:
			case _, ok = <-addrs:
			}
			if !ok {
				return
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()
	return events, nil
}

func (s *netlinkSource) list() ([]Link, error) {
	var err error
	for range dumpAttempts {
		var links []netlink.Link
		var addrs []netlink.Addr
		links, err = s.handle.LinkList()
		if err == nil {
			addrs, err = s.handle.AddrList(nil, netlink.FAMILY_ALL)
		}
		if err == nil {
			return snapshot(links, addrs), nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, err
}

// snapshot builds the sorted Links from netlink's links and addresses.
func snapshot(links []netlink.Link, addrs []netlink.Addr) []Link {
	prefixes := map[int][]netip.Prefix{}
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ones, _ := a.Mask.Size()
		prefixes[a.LinkIndex] = append(prefixes[a.LinkIndex], netip.PrefixFrom(ip.Unmap(), ones))
	}
	kinds := map[int]string{}
	for _, nl := range links {
		if at := nl.Attrs(); at != nil {
			kinds[at.Index] = nl.Type()
		}
	}
	out := make([]Link, 0, len(links))
	for _, nl := range links {
		at := nl.Attrs()
		if at == nil {
			continue
		}
		ps := prefixes[at.Index]
		slices.SortFunc(ps, comparePrefix)
		out = append(out, Link{
			Name:      at.Name,
			Index:     at.Index,
			MAC:       at.HardwareAddr,
			Up:        at.RawFlags&unix.IFF_UP != 0 && at.RawFlags&unix.IFF_LOWER_UP != 0,
			Broadcast: at.RawFlags&unix.IFF_BROADCAST != 0,
			Loopback:  at.RawFlags&unix.IFF_LOOPBACK != 0,
			NoARP:     at.RawFlags&unix.IFF_NOARP != 0,
			// A master is listed too, unless it lives in another namespace.
			MasterKind: kinds[at.MasterIndex],
			Prefixes:   ps,
		})
	}
	slices.SortFunc(out, func(x, y Link) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// comparePrefix orders prefixes by address, then by length.
func comparePrefix(x, y netip.Prefix) int {
	if c := x.Addr().Compare(y.Addr()); c != 0 {
		return c
	}
	return x.Bits() - y.Bits()
}
