package dockerfilepolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

func TestHeraldDockerfilesHoldToThePolicy(t *testing.T) {
	for _, name := range []string{"Dockerfile.controller", "Dockerfile.speaker"} {
		broken, err := CheckFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range broken {
			t.Errorf("%s: %s", name, b)
		}
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	broken, err := CheckIgnore(ignore)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range broken {
		t.Error(b)
	}
}

// Each case breaks one rule in an otherwise good Dockerfile (the
// controller's), so the checker is shown to catch every rule it claims.
func TestEveryRuleCatchesItsBreach(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(root, "Dockerfile.controller"))
	if err != nil {
		t.Fatal(err)
	}
	digest := "@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab"
	cases := []struct {
		name, old, new, want string
	}{
		{"single stage", "FROM ${GO_IMAGE} AS build", "FROM ${GO_IMAGE}", "a single stage"},
		{"build base by tag", "bookworm@sha256:", "bookworm@sha25:", "FROM golang:1.26.8-bookworm@sha25"},
		{"final base by tag", digest, "", "is not pinned by digest"},
		{"final base with a shell", "gcr.io/distroless/static-debian12:nonroot@", "gcr.io/distroless/base-debian12:debug@", "want scratch or distroless static"},
		{"cgo on", "CGO_ENABLED=0 go build", "go build", "without CGO_ENABLED=0"},
		{"no trimpath", "go build -trimpath", "go build", "without -trimpath"},
		{"run in final stage", "USER 65532:65532", "RUN mkdir /data\nUSER 65532:65532", "final stage runs"},
		{"no user", "USER 65532:65532\n", "", "sets no USER"},
		{"root user", "USER 65532:65532", "USER 0:0", "is root"},
		{"named user", "USER 65532:65532", "USER nonroot", "not numeric"},
		{"shell entrypoint", `ENTRYPOINT ["/herald-controller"]`, "ENTRYPOINT /herald-controller", "shell form"},
		{"no revision label", "org.opencontainers.image.revision=", "org.example.revision=", "no LABEL org.opencontainers.image.revision"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(good), c.old) {
				t.Fatalf("the Dockerfile no longer contains %q: update the case", c.old)
			}
			bad := strings.Replace(string(good), c.old, c.new, 1)
			// The single-stage case must also lose the final stage.
			if c.name == "single stage" {
				bad = bad[:strings.LastIndex(bad, "\nFROM ")]
			}
			broken, err := Check([]byte(bad))
			if err != nil {
				t.Fatal(err)
			}
			if len(broken) == 0 {
				t.Fatalf("no rule broken, want %q", c.want)
			}
			joined := strings.Join(broken, "\n")
			if !strings.Contains(joined, c.want) {
				t.Errorf("got %q, want one containing %q", joined, c.want)
			}
		})
	}
}

func TestIgnoreMustExcludeGit(t *testing.T) {
	for _, c := range []struct {
		ignore string
		ok     bool
	}{
		{".git\n_output\n", true},
		{"**/.git\n", true},
		{".git/\n", true},
		{"_output\n", false},
		{".git\n!.git/HEAD\n", false},
		{"", false},
	} {
		broken, err := CheckIgnore([]byte(c.ignore))
		if err != nil {
			t.Fatal(err)
		}
		if (len(broken) == 0) != c.ok {
			t.Errorf("%q: broken %q, want ok=%v", c.ignore, broken, c.ok)
		}
	}
}
