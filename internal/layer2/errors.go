package layer2

import "errors"

// Sentinel errors. Errors from Set and Announce wrap them, joined with
// errors.Join when several pairs fail, so callers test them with errors.Is.
var (
	// ErrInvalidAnnouncement: the IP cannot be announced (invalid, zoned,
	// IPv4-mapped, unspecified, loopback or multicast) or the interface name
	// is empty.
	ErrInvalidAnnouncement = errors.New("invalid announcement")
	// ErrNotEthernet: the interface has no usable Ethernet address.
	ErrNotEthernet = errors.New("interface has no Ethernet address")
	// ErrNotApplied: Announce was asked to claim, with our own MAC, an IP
	// that is not in effect on that interface.
	ErrNotApplied = errors.New("announcement not in effect")
	// ErrStopped: Run has returned, or was called a second time.
	ErrStopped = errors.New("announcer stopped")
)
