package ipam

import (
	"net/netip"
	"slices"
	"strings"
)

// share is what the sharing rules look at in a Service.
type share struct {
	key     string
	ports   []Port
	local   bool
	backend string
}

func shareOf(r Request) share {
	if r.SharingKey == "" {
		// Without a key nothing else matters: the IP is not shared.
		return share{}
	}
	return share{key: r.SharingKey, ports: slices.Clone(r.Ports), local: r.Local, backend: r.Backend}
}

// ref returns s for a holding to keep: nil when the Service does not share,
// so that most holdings carry no sharing details at all.
func (s share) ref() *share {
	if s.key == "" {
		return nil
	}
	return &s
}

// canShare returns nil if a Service with s may use ip alongside holder,
// which holds it with h; otherwise an error wrapping ErrIPInUse (and
// ErrSharingRefused when both Services allow sharing) that names holder.
func canShare(what string, s share, holder string, h share) error {
	switch {
	case s.key == "" && h.key == "":
		return errorf(ErrIPInUse, "%s is in use by %s", what, holder)
	case s.key == "":
		return errorf(ErrIPInUse, "%s is in use by %s (this service sets no sharing key)", what, holder)
	case h.key == "":
		return errorf(ErrIPInUse, "%s is in use by %s, which does not allow sharing", what, holder)
	case s.key != h.key:
		return errorf(ErrSharingRefused, "%s is in use by %s: sharing key %q differs from %q", what, holder, s.key, h.key)
	}
	for _, p := range s.ports {
		for _, q := range h.ports {
			if p.Port == q.Port && strings.EqualFold(p.Protocol, q.Protocol) {
				return errorf(ErrSharingRefused, "%s is in use by %s: port clash %v with %s", what, holder, p, holder)
			}
		}
	}
	if (s.local || h.local) && s.backend != h.backend {
		return errorf(ErrSharingRefused, "%s is in use by %s: backend differs from %s (externalTrafficPolicy Local needs the same backend)", what, holder, holder)
	}
	return nil
}

// canUse checks the sharing rules of a Service key with s against every
// other holder of ip.
func (a *Allocator) canUse(what, key string, s share, ip netip.Addr) error {
	var err error
	a.users[ip].each(func(holder string) bool {
		if holder != key {
			err = canShare(what, s, holder, a.held[holder].sharing())
		}
		return err == nil
	})
	return err
}
