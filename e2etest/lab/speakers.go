package lab

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// MemberlistSecret is the Secret the speakers' gossip key comes from, as
// the README tells users to create it.
const MemberlistSecret = "herald-memberlist"

// ensureMemberlistSecret creates the speakers' gossip key, random per lab.
func ensureMemberlistSecret(ctx context.Context, c client.Client) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("make memberlist key: %w", err)
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: HeraldNamespace, Name: MemberlistSecret},
		StringData: map[string]string{"secretkey": base64.StdEncoding.EncodeToString(key)},
	}
	if err := c.Create(ctx, s); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("create memberlist Secret: %w", err)
	}
	return nil
}

// NodeIndex returns the 1-based index of the named node, or 0.
func (l *Lab) NodeIndex(name string) int {
	for i, n := range l.Nodes {
		if n.Name == name {
			return i + 1
		}
	}
	return 0
}

// Speaker returns node i's (1-based) speaker process.
func (l *Lab) Speaker(i int) *Proc { return l.Speakers.Procs[i-1] }

// SignalSpeaker sends sig to node i's speaker and returns at once.
func (l *Lab) SignalSpeaker(i int, sig syscall.Signal) error {
	return syscall.Kill(-l.Speaker(i).Pid(), sig)
}

// StopSpeaker stops node i's speaker: SIGTERM, and SIGKILL after grace.
func (l *Lab) StopSpeaker(i int, grace time.Duration) { l.Speaker(i).Stop(grace) }

// StartSpeaker starts node i's speaker again after it stopped.
func (l *Lab) StartSpeaker(i int) error {
	if ok, _ := l.Speaker(i).Exited(); !ok {
		return fmt.Errorf("the speaker of %s is still running", l.Nodes[i-1].Name)
	}
	p, err := l.startSpeaker(l.Nodes[i-1])
	if err != nil {
		return err
	}
	l.Speakers.Procs[i-1] = p
	return nil
}

// SetLink sets a link of node i (1-based) up or down. Bringing the LAN
// link up restores the routes the kernel dropped with it, as a node's
// network manager would.
func (l *Lab) SetLink(ctx context.Context, i int, iface string, up bool) error {
	if !up {
		_, err := Exec(ctx, NodeNS(i), "ip", "link", "set", iface, "down")
		return err
	}
	cmds := []string{"link set " + iface + " up"}
	if iface == ClientIface {
		cmds = append(cmds, nodeRoutes()...)
	}
	return ipBatch(ctx, NodeNS(i), cmds)
}

// partitionTable is the nftables table, in the bridge namespace, that cuts
// nodes off from each other.
const partitionTable = "hlab-partition"

// Partition cuts the given nodes (1-based) off from the other nodes on the
// LAN, in both directions, while all of them still reach the clients, the
// router and the apiserver: a split among the speakers only. It replaces
// any earlier partition.
func (l *Lab) Partition(ctx context.Context, isolated ...int) error {
	var in, out []string
	cut := map[int]bool{}
	for _, i := range isolated {
		cut[i] = true
	}
	for i := range l.Nodes {
		for _, port := range nodePorts(i+1, l.bonded[i+1]) {
			if cut[i+1] {
				in = append(in, `"`+port+`"`)
			} else {
				out = append(out, `"`+port+`"`)
			}
		}
	}
	if len(in) == 0 || len(out) == 0 {
		return fmt.Errorf("partition %v: both sides need a node", isolated)
	}
	if err := l.Heal(ctx); err != nil {
		return err
	}
	a, b := strings.Join(in, ", "), strings.Join(out, ", ")
	return nftApply(ctx, BridgeNS, fmt.Sprintf(`
table bridge %s {
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname { %s } oifname { %s } drop
		iifname { %s } oifname { %s } drop
	}
}
`, partitionTable, a, b, b, a))
}

// Heal removes a partition; it is a no-op when there is none.
func (l *Lab) Heal(ctx context.Context) error {
	out, err := Exec(ctx, BridgeNS, "nft", "list", "tables")
	if err != nil || !strings.Contains(out, partitionTable) {
		return err
	}
	_, err = Exec(ctx, BridgeNS, "nft", "delete", "table", "bridge", partitionTable)
	return err
}

// BlockIPv4Gossip drops memberlist's IPv4 traffic (port 7946, UDP and TCP)
// between the nodes, so that speakers can only gossip over IPv6. It lasts
// as long as the lab.
func (l *Lab) BlockIPv4Gossip(ctx context.Context) error {
	return nftApply(ctx, BridgeNS, `
table bridge herald-no-ipv4-gossip {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ether type ip udp dport 7946 drop
		ether type ip udp sport 7946 drop
		ether type ip tcp dport 7946 drop
		ether type ip tcp sport 7946 drop
	}
}
`)
}
