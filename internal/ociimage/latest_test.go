package ociimage

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// latest is an image reference tagged :latest, which moves under a cluster.
var latest = regexp.MustCompile(`[A-Za-z0-9._/-]+:latest\b`)

// TestNoLatestTag keeps every image reference pinned to a release.
func TestNoLatestTag(t *testing.T) {
	root := filepath.Join("..", "..")
	paths := []string{"manifests", "config", "charts", "docs", "README.md", "Dockerfile.controller", "Dockerfile.speaker"}
	read := 0
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(root, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			read++
			for _, m := range latest.FindAll(b, -1) {
				t.Errorf("%s: image reference %q uses :latest", path, m)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if read == 0 {
		t.Fatal("read no files: wrong root?")
	}
	if !latest.MatchString("image: ghcr.io/heraldlb/herald-speaker:latest") {
		t.Fatal("the pattern misses a :latest reference")
	}
}
