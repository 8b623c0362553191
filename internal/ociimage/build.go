package ociimage

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Pkg is the package path of the version variables the linker sets.
const Pkg = "github.com/heraldlb/herald/internal/version"

// LDFlags are the linker flags of the images' binaries; the Dockerfiles
// spell out the same.
func LDFlags(version, revision string) string {
	return fmt.Sprintf("-s -w -X %s.Version=%s -X %s.Revision=%s", Pkg, version, Pkg, revision)
}

// BuildBinary builds the static binary of the main package pkg (e.g.
// ./controller) from module root into out, for linux/arch.
func BuildBinary(ctx context.Context, root, pkg, out, arch, version, revision string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", LDFlags(version, revision), "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, b)
	}
	return nil
}

// BuildAll builds and writes both images under dir.
func BuildAll(ctx context.Context, root, dir, arch, version, revision string) ([]Image, error) {
	var ims []Image
	for _, c := range []struct{ name, pkg string }{
		{"herald-controller", "./controller"},
		{"herald-speaker", "./speaker"},
	} {
		im := Image{Name: c.name, Binary: filepath.Join(dir, "bin", c.name), Version: version, Revision: revision, Arch: arch}
		if err := BuildBinary(ctx, root, c.pkg, im.Binary, arch, version, revision); err != nil {
			return nil, err
		}
		img, err := Assemble(im)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		if err := Write(dir, im, img); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		ims = append(ims, im)
	}
	return ims, nil
}
