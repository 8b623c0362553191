package status

import (
	"slices"
	"strings"
	"time"

	"github.com/heraldlb/herald/api/v1beta1"
)

// PeerRow is one node's session with one BGPPeer, as `heraldctl bgp peers`
// shows it.
type PeerRow struct {
	Node     string     `json:"node"`
	Peer     string     `json:"peer"`
	Address  string     `json:"address,omitempty"`
	State    string     `json:"state"`
	Since    *time.Time `json:"since,omitempty"`
	Error    string     `json:"lastError,omitempty"`
	Sent     int32      `json:"prefixesSent"`
	Withheld int32      `json:"prefixesWithheld"`
}

// BGPPeers lists every node's sessions, by node then peer.
func BGPPeers(nodes []v1beta1.HeraldNode) []PeerRow {
	rows := []PeerRow{}
	for _, n := range nodes {
		for _, p := range n.Status.BGPPeers {
			r := PeerRow{Node: n.Name, Peer: p.Name, Address: p.PeerAddress, State: p.State, Error: p.LastError, Sent: p.PrefixesSent, Withheld: p.PrefixesWithheld}
			if p.Since != nil {
				r.Since = &p.Since.Time
			}
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b PeerRow) int {
		return strings.Compare(a.Node+" "+a.Peer, b.Node+" "+b.Peer)
	})
	return rows
}

// PeerRoutes are the prefixes one node sends to one peer.
type PeerRoutes struct {
	Peer     string   `json:"peer"`
	State    string   `json:"state"`
	Sent     int32    `json:"prefixesSent"`
	Prefixes []string `json:"prefixes"`
	// Truncated: the node sends more than the HeraldNode lists (it lists
	// at most v1beta1.MaxListedPrefixes per peer).
	Truncated bool `json:"truncated,omitempty"`
}

// Routes lists what node n sends to each of its peers, by peer.
func Routes(n v1beta1.HeraldNode) []PeerRoutes {
	out := []PeerRoutes{}
	for _, p := range n.Status.BGPPeers {
		r := PeerRoutes{Peer: p.Name, State: p.State, Sent: p.PrefixesSent, Prefixes: slices.Clone(p.Prefixes)}
		if r.Prefixes == nil {
			r.Prefixes = []string{}
		}
		r.Truncated = int(p.PrefixesSent) > len(p.Prefixes)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b PeerRoutes) int { return strings.Compare(a.Peer, b.Peer) })
	return out
}
