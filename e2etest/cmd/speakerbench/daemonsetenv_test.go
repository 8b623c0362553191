package main

import (
	"slices"
	"testing"
)

// TestDaemonSetEnv: the lab's speakers get the memory settings of the
// DaemonSet this tree installs.
func TestDaemonSetEnv(t *testing.T) {
	env, err := daemonSetEnv("../../../config/speaker/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// NODE_NAME, a fieldRef, is the lab's own.
	want := []string{"HERALD_MEMORY_LIMIT=536870912", "GOGC=50"}
	if !slices.Equal(env, want) {
		t.Errorf("env %q, want %q", env, want)
	}
}
