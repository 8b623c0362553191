package layer2

import (
	"errors"
	"fmt"
	"net"

	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/ipv6"
)

// hostNetwork is the calling thread's network namespace.
type hostNetwork struct{}

func (hostNetwork) open(k key) (sockets, error) { return openSockets(k) }

// links asks the kernel for each name alone: Set calls it every time, and
// a dump of every link (net.Interfaces) costs 3 ms on a node with 300, a
// lookup by name 27 µs.
func (hostNetwork) links(names []string) (map[string]link, error) {
	out := map[string]link{}
	for _, name := range names {
		l, err := netlink.LinkByName(name)
		var notFound netlink.LinkNotFoundError
		switch {
		case errors.As(err, &notFound):
			continue
		case err != nil:
			return nil, fmt.Errorf("look up interface %s: %w", name, err)
		}
		out[name] = link{index: l.Attrs().Index, mac: l.Attrs().HardwareAddr}
	}
	return out, nil
}

// openSockets opens a listener's sockets on the named interface, in the
// network namespace of the calling thread.
func openSockets(k key) (sockets, error) {
	ifi, err := net.InterfaceByName(k.iface)
	if err != nil {
		return sockets{}, fmt.Errorf("look up interface: %w", err)
	}
	if !isUnicastMAC(ifi.HardwareAddr) {
		return sockets{}, fmt.Errorf("hardware address %q: %w", ifi.HardwareAddr, ErrNotEthernet)
	}
	s := sockets{link: link{index: ifi.Index, mac: ifi.HardwareAddr}}
	etherType := etherTypeARP
	if k.proto == protoNDP {
		etherType = etherTypeIPv6
	}
	filter, err := socketFilter(k.proto)
	if err != nil {
		return sockets{}, err
	}
	// The filter is attached before bind, so the socket never queues a
	// frame it would not pass.
	frames, err := packet.Listen(ifi, packet.Raw, etherType, &packet.Config{Filter: filter})
	if err != nil {
		return sockets{}, fmt.Errorf("open packet socket: %w", err)
	}
	s.frames = frames
	if k.proto == protoNDP {
		if s.groups, err = openGroups(ifi); err != nil {
			return sockets{}, errors.Join(err, frames.Close())
		}
	}
	return s, nil
}

// openGroups opens the ICMPv6 socket that holds solicited-node memberships.
// It is bound to "::", never to an address, so it cannot fail the way
// MetalLB's did (metallb#2685), and it reads nothing: the packet socket
// does, so a filter blocks every ICMPv6 type and the socket queues nothing.
func openGroups(ifi *net.Interface) (*ndp.Conn, error) {
	c, _, err := ndp.Listen(ifi, ndp.Unspecified)
	if err != nil {
		return nil, fmt.Errorf("open ICMPv6 socket: %w", err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := c.SetICMPFilter(&f); err != nil {
		return nil, errors.Join(fmt.Errorf("filter ICMPv6 socket: %w", err), c.Close())
	}
	return c, nil
}
