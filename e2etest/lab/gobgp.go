package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	heraldv1beta1 "github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/e2etest/gobgprouter"
)

// The second router (Options.GoBGPRouter): a GoBGP server in its own
// namespace on the LAN, beside FRR, speaking iBGP with every node so that
// local-pref reaches it. It only listens; the speakers dial it.
const (
	Router2NS = "hlab-router2"
	// Router2ASN is the nodes' own ASN: iBGP.
	Router2ASN = NodeASN
	// GoBGPSocket is where labgobgp serves /paths and /neighbors. A unix
	// socket: tests read it from the root namespace without sending any
	// traffic into the lab.
	GoBGPSocket = StateDir + "/gobgp.sock"
	// GoBGPHoldTime is the hold time of the lab's sessions to the second
	// router: short, so that fault tests stay bounded.
	GoBGPHoldTime = 9 * time.Second
)

// The second router's LAN addresses.
var (
	Router2LAN4 = netip.MustParseAddr("198.51.100.2")
	Router2LAN6 = netip.MustParseAddr("2001:db8:1::2")
)

// The BGPPeers the lab creates for the second router: one per family of
// its address.
const (
	GoBGPPeer4 = "gobgp"
	GoBGPPeer6 = "gobgp6"
)

// buildRouter2 adds the second router's namespace, on the LAN bridge.
func buildRouter2(ctx context.Context) error {
	if _, err := run(ctx, "ip", "netns", "add", Router2NS); err != nil {
		return err
	}
	if err := ipBatch(ctx, BridgeNS, []string{
		"link add p-router2 type veth peer name lan0 netns " + Router2NS,
		"link set p-router2 master br0 up",
	}); err != nil {
		return err
	}
	return ipBatch(ctx, Router2NS, []string{
		"link set lo up",
		"addr add " + prefixOf(Router2LAN4, LANPrefix4) + " dev lan0",
		"addr add " + prefixOf(Router2LAN6, LANPrefix6) + " dev lan0 nodad",
		"link set lan0 up",
	})
}

// StartGoBGP starts the second router with TCP MD5 password for every
// neighbour ("" for none). It returns once the router answers on its
// socket.
func (l *Lab) StartGoBGP(ctx context.Context, password string) error {
	var neighbors []string
	for _, n := range l.Nodes {
		neighbors = append(neighbors, n.IPv4.String(), n.IPv6.String())
	}
	p, err := startProc("gobgp", Router2NS, nil, filepath.Join(StateDir, "bin", "labgobgp"),
		fmt.Sprintf("--asn=%d", Router2ASN), fmt.Sprintf("--peer-asn=%d", NodeASN),
		"--router-id="+Router2LAN4.String(), "--listen="+Router2LAN4.String()+","+Router2LAN6.String(),
		"--neighbors="+strings.Join(neighbors, ","), "--password="+password,
		"--hold-time="+GoBGPHoldTime.String(), "--socket="+GoBGPSocket)
	if err != nil {
		return err
	}
	l.Router2 = p
	if err := waitFor(ctx, 10*time.Second, func() bool { _, err := GoBGPNeighbors(ctx); return err == nil }); err != nil {
		return fmt.Errorf("labgobgp did not start: %w\n%s", err, p.LogTail(10))
	}
	return nil
}

// StopGoBGP stops the second router: it closes every session with a
// NOTIFICATION, as a router being shut down does.
func (l *Lab) StopGoBGP() {
	if l.Router2 != nil {
		l.Router2.Stop(5 * time.Second)
		l.Router2 = nil
	}
}

// BlockGoBGP drops (block true) or lets through again every BGP segment in
// the second router's namespace, so that keepalives stop and hold timers
// expire on both sides.
func (l *Lab) BlockGoBGP(ctx context.Context, block bool) error {
	if !block {
		_, err := Exec(ctx, Router2NS, "nft", "delete", "table", "inet", "hlab-block")
		return err
	}
	return nftApply(ctx, Router2NS, `
table inet hlab-block {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 179 drop
		tcp sport 179 drop
	}
	chain output {
		type filter hook output priority filter; policy accept;
		tcp dport 179 drop
		tcp sport 179 drop
	}
}
`)
}

// GoBGPPeers are the BGPPeers of the second router, over its IPv4 and its
// IPv6 address, with the lab's short hold time.
func GoBGPPeers() []*heraldv1beta1.BGPPeer {
	var out []*heraldv1beta1.BGPPeer
	names := []string{GoBGPPeer4, GoBGPPeer6}
	for i, addr := range []netip.Addr{Router2LAN4, Router2LAN6} {
		out = append(out, &heraldv1beta1.BGPPeer{
			ObjectMeta: metav1.ObjectMeta{Name: names[i]},
			Spec: heraldv1beta1.BGPPeerSpec{
				MyASN: NodeASN, PeerASN: ptr.To[heraldv1beta1.ASN](Router2ASN), PeerAddress: addr.String(),
				HoldTime:      &metav1.Duration{Duration: GoBGPHoldTime},
				KeepaliveTime: &metav1.Duration{Duration: GoBGPHoldTime / 3},
				ConnectTime:   &metav1.Duration{Duration: 2 * time.Second},
				Password:      BGPPassword,
			},
		})
	}
	return out
}

func createGoBGPPeers(ctx context.Context, c client.Client) error {
	for _, p := range GoBGPPeers() {
		if err := c.Create(ctx, p); err != nil {
			return fmt.Errorf("create BGPPeer %s: %w", p.Name, err)
		}
	}
	return nil
}

// GoBGPPaths returns every path the second router holds.
func GoBGPPaths(ctx context.Context) ([]gobgprouter.Path, error) {
	var out []gobgprouter.Path
	return out, getGoBGP(ctx, "/paths", &out)
}

// GoBGPNeighbors returns the second router's view of its sessions.
func GoBGPNeighbors(ctx context.Context) ([]gobgprouter.Neighbor, error) {
	var out []gobgprouter.Neighbor
	return out, getGoBGP(ctx, "/neighbors", &out)
}

func getGoBGP(ctx context.Context, path string, v any) error {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", GoBGPSocket)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://labgobgp"+path, nil)
	if err != nil {
		return err
	}
	rsp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("ask labgobgp for %s: %w", path, err)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return fmt.Errorf("ask labgobgp for %s: %s", path, rsp.Status)
	}
	if err := json.NewDecoder(rsp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode labgobgp's %s: %w", path, err)
	}
	return nil
}
