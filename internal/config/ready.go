package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/heraldlb/herald/api/v1beta1"
)

// Reasons of the Ready condition of advertisements, peers and communities,
// beside the Problem reasons that validation gives.
const (
	ReasonAccepted    = "Accepted"
	ReasonUnknownPool = "UnknownPool"
	ReasonUnknownPeer = "UnknownPeer"
)

// Ready is the Ready condition an L2Advertisement, BGPAdvertisement,
// BGPPeer or Community should have.
type Ready struct {
	OK      bool
	Reason  string
	Message string
}

// Readiness returns, by "Kind/name", the Ready condition of every
// L2Advertisement, BGPAdvertisement, BGPPeer and Community in objs. It sees
// only the objects: a BGPPeer's password Secret is the speaker's to check.
func Readiness(objs Objects) map[string]Ready {
	a := Announcements(objs)
	pools := map[string]bool{}
	for i := range objs.Pools {
		pools[objs.Pools[i].Name] = true
	}
	peers := map[string]bool{}
	for i := range objs.Peers {
		peers[objs.Peers[i].Name] = true
	}
	out := map[string]Ready{}
	for _, l := range a.L2 {
		out["L2Advertisement/"+l.Name] = selection(l.AllPools, l.Pools, namedPools(objs.L2, l.Name), pools)
	}
	for _, b := range a.BGP {
		r := selection(b.AllPools, b.Pools, namedBGPPools(objs, b.Name), pools)
		if missing := unknown(b.Peers, peers); r.OK && missing != "" {
			r = Ready{Reason: ReasonUnknownPeer, Message: fmt.Sprintf("names peer %q which does not exist", missing)}
		}
		out["BGPAdvertisement/"+b.Name] = r
	}
	for _, p := range a.Peers {
		out["BGPPeer/"+p.Name] = Ready{OK: true, Reason: ReasonAccepted,
			Message: fmt.Sprintf("opens a session to %s port %d", p.PeerAddress, p.PeerPort)}
	}
	for i := range objs.Communities {
		c := &objs.Communities[i]
		names := make([]string, 0, len(c.Spec.Communities))
		for _, al := range c.Spec.Communities {
			names = append(names, al.Name)
		}
		out["Community/"+c.Name] = Ready{OK: true, Reason: ReasonAccepted, Message: "defines " + list("alias", names)}
	}
	for key, p := range a.Problems {
		if !strings.HasPrefix(key, "IPAddressPool/") {
			out[key] = Ready{Reason: p.Reason, Message: p.Message}
		}
	}
	return out
}

// selection is the verdict on an advertisement's pools: a pool named by
// name must exist; the message lists the pools it selects now.
func selection(all bool, selected map[string]bool, named []string, exist map[string]bool) Ready {
	if missing := unknown(named, exist); missing != "" {
		return Ready{Reason: ReasonUnknownPool, Message: fmt.Sprintf("names pool %q which does not exist", missing)}
	}
	if all {
		return Ready{OK: true, Reason: ReasonAccepted, Message: "selects every pool"}
	}
	var names []string
	for n := range selected {
		if exist[n] {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return Ready{OK: true, Reason: ReasonAccepted, Message: "selects no pool yet: no pool matches its selectors"}
	}
	return Ready{OK: true, Reason: ReasonAccepted, Message: "selects " + list("pool", names)}
}

// unknown returns the first name, in order, that is not in exist.
func unknown(names []string, exist map[string]bool) string {
	for _, n := range names {
		if !exist[n] {
			return n
		}
	}
	return ""
}

// list writes "pool a" or "pools a, b", sorted.
func list(what string, names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	switch len(names) {
	case 0:
		return "no " + what
	case 1:
		return what + " " + names[0]
	}
	if strings.HasSuffix(what, "s") {
		what += "e"
	}
	return what + "s " + strings.Join(names, ", ")
}

func namedPools(l2 []v1beta1.L2Advertisement, name string) []string {
	for i := range l2 {
		if l2[i].Name == name {
			return l2[i].Spec.IPAddressPools
		}
	}
	return nil
}

func namedBGPPools(objs Objects, name string) []string {
	for i := range objs.BGP {
		if objs.BGP[i].Name == name {
			return objs.BGP[i].Spec.IPAddressPools
		}
	}
	return nil
}
