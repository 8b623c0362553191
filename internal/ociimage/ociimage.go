// Package ociimage builds Herald's images without a container runtime or
// network: an empty base, one layer holding what a static nonroot image needs
// (/etc/passwd, /etc/group, /tmp) and the static binary, written as an OCI
// layout and a docker-loadable tarball.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Source is the repository the images' source label names.
const Source = "https://github.com/heraldlb/herald"

// User is the nonroot uid:gid of distroless, which the manifests expect.
const User = "65532:65532"

// Image is one image to assemble from an already built static binary.
type Image struct {
	Name     string // e.g. herald-controller; also the binary's name
	Binary   string // path of the static binary
	Version  string // e.g. v0.1.0, the tag
	Revision string
	Arch     string // GOARCH the binary was built for
}

// Ref is the image's tagged reference, ghcr.io/heraldlb/NAME:VERSION.
func (im Image) Ref() string { return "ghcr.io/heraldlb/" + im.Name + ":" + im.Version }

// Assemble makes the image in memory.
func Assemble(im Image) (v1.Image, error) {
	bin, err := os.ReadFile(im.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	data, err := rootfs(im.Name, bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	return configure(img, im)
}

func configure(img v1.Image, im Image) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", im.Arch
	cf.Config.Entrypoint = []string{"/" + im.Name}
	cf.Config.User = User
	cf.Config.WorkingDir = "/"
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.version":  im.Version,
		"org.opencontainers.image.revision": im.Revision,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// rootfs is the layer's tar: fixed times so that a rebuild is identical.
func rootfs(binName string, bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	files := []struct {
		name string
		mode int64
		body []byte
		dir  bool
	}{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: binName, mode: 0o755, body: bin},
	}
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

// Write puts img under dir as an OCI layout dir/NAME (its ref name the tag)
// and a tarball dir/NAME.tar.
func Write(dir string, im Image, img v1.Image) error {
	ref, err := name.NewTag(im.Ref())
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	p, err := layout.Write(filepath.Join(dir, im.Name), empty.Index)
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	ann := map[string]string{"org.opencontainers.image.ref.name": im.Ref()}
	if err := p.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
		return fmt.Errorf("layout append: %w", err)
	}
	if err := tarball.WriteToFile(filepath.Join(dir, im.Name+".tar"), ref, img); err != nil {
		return fmt.Errorf("tarball: %w", err)
	}
	return nil
}
