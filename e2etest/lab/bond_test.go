package lab

import (
	"slices"
	"strings"
	"testing"
)

func TestBridgePortsOfBondedNodes(t *testing.T) {
	got := bridgePorts(3, map[int]bool{2: true})
	want := []string{"p-router", "p-client", "p-node1", "p-node2", "p-node2b", "p-node3"}
	if !slices.Equal(got, want) {
		t.Fatalf("bridgePorts = %v, want %v", got, want)
	}
	if got := nodeLANLinks(2, true); len(got) != 2 || !strings.Contains(got[0], BondSlaves[0]) || !strings.Contains(got[1], "p-node2b") {
		t.Fatalf("nodeLANLinks(2, bonded) = %v, want a veth per slave", got)
	}
}

// The bond takes the MAC of its first slave, so each slave has its MAC
// before it is enslaved, and the first slave is NodeMAC's.
func TestBondCommandsSetMACsBeforeEnslaving(t *testing.T) {
	cmds := bondCommands(1)
	at := func(substr string) int {
		return slices.IndexFunc(cmds, func(c string) bool { return strings.Contains(c, substr) })
	}
	for _, s := range BondSlaves {
		if at(s+" address") < 0 || at(s+" address") > at(s+" master") {
			t.Fatalf("%v: %s is enslaved before it has its MAC", cmds, s)
		}
	}
	if at(BondSlaves[0]+" master") > at(BondSlaves[1]+" master") || !strings.Contains(cmds[at(BondSlaves[0]+" address")], NodeMAC(1).String()) {
		t.Fatalf("%v: the first slave enslaved must have NodeMAC(1)", cmds)
	}
	if !strings.Contains(cmds[0], "active-backup") || !strings.Contains(cmds[0], "fail_over_mac active") {
		t.Fatalf("%v: the bond must be active-backup with fail_over_mac active", cmds)
	}
}

func TestBondedSetRejectsUnknownNodes(t *testing.T) {
	if _, err := bondedSet(Options{Nodes: 3, BondedNodes: []int{4}}); err == nil {
		t.Fatal("node 4 of 3 was accepted")
	}
	if got, err := bondedSet(Options{Nodes: 3, BondedNodes: []int{1, 3}}); err != nil || !got[1] || !got[3] || got[2] {
		t.Fatalf("bondedSet = %v, %v", got, err)
	}
}
