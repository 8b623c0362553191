package speaker

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"

	"github.com/heraldlb/herald/internal/plan"
)

// maxMeta is memberlist's limit on node metadata.
const maxMeta = 512

// meta is what a speaker gossips about itself: the links that decide where
// it may announce (plan.Gossip), with their MACs so that a leaving speaker
// can point clients at an IP's new owner, and whether it has any usable link
// at all. Field names are short: memberlist allows 512 bytes.
type meta struct {
	Links []metaLink `json:"l,omitempty"`
	Any   bool       `json:"a,omitempty"`
	// Settling: see plan.Member. Absent means ready, so that a speaker
	// that does not send it is judged as before.
	Settling bool `json:"s,omitempty"`
}

type metaLink struct {
	Name     string         `json:"n"`
	MAC      string         `json:"m,omitempty"`
	Prefixes []netip.Prefix `json:"p,omitempty"`
}

// encodeMeta renders the gossiped links, with their MACs from macs.
func encodeMeta(links []plan.Link, macs map[string]net.HardwareAddr, any, settling bool) ([]byte, error) {
	m := meta{Any: any, Settling: settling}
	for _, l := range links {
		m.Links = append(m.Links, metaLink{Name: l.Name, MAC: macs[l.Name].String(), Prefixes: l.Prefixes})
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode member metadata: %w", err)
	}
	if len(b) > maxMeta {
		return nil, fmt.Errorf("encode member metadata: %d bytes, over memberlist's %d: too many links named in L2Advertisements or with addresses in pools", len(b), maxMeta)
	}
	return b, nil
}

// decodeMeta reads another speaker's metadata. A speaker whose metadata does
// not parse is still a member, with no known links: it cannot win an IP.
func decodeMeta(name string, b []byte) (plan.Member, map[string]net.HardwareAddr, error) {
	out := plan.Member{Name: name}
	if len(b) == 0 {
		return out, nil, nil
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return out, nil, fmt.Errorf("decode metadata of speaker %s: %w", name, err)
	}
	macs := map[string]net.HardwareAddr{}
	for _, l := range m.Links {
		out.Links = append(out.Links, plan.Link{Name: l.Name, Prefixes: l.Prefixes})
		if hw, err := net.ParseMAC(l.MAC); err == nil {
			macs[l.Name] = hw
		}
	}
	out.AnyLink, out.Settling = m.Any, m.Settling
	return out, macs, nil
}
