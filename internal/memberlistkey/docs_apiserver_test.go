package memberlistkey

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldlb/herald/internal/testenv"
)

// docSteps returns the shell blocks of docs/real-nodes.md's "Rotating the
// memberlist key" that edit the Secret, in order, without their list
// indentation.
func docSteps(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "real-nodes.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Rotating the memberlist key\n")
	if !ok {
		t.Fatal(`docs/real-nodes.md has no section "Rotating the memberlist key"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	var block []string
	in := false
	for _, line := range strings.Split(section, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in, block = true, nil
		case in && trimmed == "```":
			in = false
			if b := strings.Join(block, "\n"); strings.Contains(b, "kubectl patch") {
				blocks = append(blocks, b)
			}
		case in:
			block = append(block, strings.TrimPrefix(line, "   "))
		}
	}
	return blocks
}

// TestDocumentedRotation runs the documentation's three commands, as they
// are written, against the real apiserver, and checks that the watcher
// hands memberlist the three keyrings of a rotation: the new key beside the
// old, then the new one primary with the old beside it, then the new alone.
func TestDocumentedRotation(t *testing.T) {
	steps := docSteps(t)
	if len(steps) != 3 {
		t.Fatalf("the section has %d shell blocks with kubectl patch, want the 3 steps:\n%s", len(steps), strings.Join(steps, "\n---\n"))
	}
	h := startWatcher(t, "herald-memberlist", map[string]string{"secretkey": keyA})
	h.waitCalls("A")
	want := [][]string{{"A"}, {"A", "A+?"}, {"A", "A+?", "?+A"}, {"A", "A+?", "?+A", "?"}}
	for i, step := range steps {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", step)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+env.Kubeconfig, "PATH="+env.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("step %d:\n%s\nfailed: %v\n%s", i+1, step, err, out)
		}
		h.waitCalls(want[i+1]...)
	}
	// The "?" is one key throughout: the one step 1 made.
	k := h.keys.keys()
	if next := k[1].Secondary[0]; !bytes.Equal(k[2].Primary, next) || !bytes.Equal(k[3].Primary, next) {
		t.Error("the new primary is not the key step 1 added")
	}
}
