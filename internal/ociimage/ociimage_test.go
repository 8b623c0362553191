package ociimage

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestBuildAll builds both images as make images-oci does and checks what a
// cluster relies on, down to the binary in the layer answering --version.
func TestBuildAll(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	v, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	version, rev := "v"+strings.TrimSpace(string(v)), "0123456789abcdef"
	dir := t.TempDir()
	ims, err := BuildAll(context.Background(), root, dir, runtime.GOARCH, version, rev)
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 2 {
		t.Fatalf("built %d images, want 2", len(ims))
	}
	for _, im := range ims {
		img := openLayout(t, filepath.Join(dir, im.Name), "ghcr.io/heraldlb/"+im.Name+":"+version)
		checkConfig(t, img, im.Name, version, rev)
		bin := extract(t, img, im.Name, t.TempDir())
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v: %s", im.Name, err, out)
		}
		if want := im.Name + " " + version + " (revision " + rev + ","; !strings.HasPrefix(string(out), want) {
			t.Errorf("%s --version = %q, want prefix %q", im.Name, out, want)
		}
		if _, err := os.Stat(filepath.Join(dir, im.Name+".tar")); err != nil {
			t.Errorf("tarball: %v", err)
		}
	}
}

func openLayout(t *testing.T, path, ref string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != ref {
		t.Fatalf("layout %s: manifests %+v, want one tagged %s", path, m.Manifests, ref)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkConfig(t *testing.T, img v1.Image, binName, version, rev string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/"+binName {
		t.Errorf("%s entrypoint = %v", binName, c.Entrypoint)
	}
	if c.User != "65532:65532" || cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("%s user %q os %q arch %q", binName, c.User, cf.OS, cf.Architecture)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.source":   "https://github.com/heraldlb/herald",
		"org.opencontainers.image.version":  version,
		"org.opencontainers.image.revision": rev,
	} {
		if c.Labels[k] != want {
			t.Errorf("%s label %s = %q, want %q", binName, k, c.Labels[k], want)
		}
	}
}

// extract copies the binary out of the image's one layer, checking the
// nonroot user is in /etc/passwd on the way.
func extract(t *testing.T, img v1.Image, binName, dir string) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out, passwd := filepath.Join(dir, binName), false
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Name {
		case "etc/passwd":
			b, _ := io.ReadAll(tr)
			passwd = strings.Contains(string(b), "nonroot:x:65532:65532:")
		case binName:
			b, _ := io.ReadAll(tr)
			if err := os.WriteFile(out, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !passwd {
		t.Errorf("%s: /etc/passwd lacks nonroot 65532", binName)
	}
	return out
}
