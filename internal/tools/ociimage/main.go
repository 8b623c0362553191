// Command ociimage builds Herald's images in Go, with no container runtime
// and no network (make images-oci): an OCI layout and a tarball per image.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/heraldlb/herald/internal/ociimage"
)

func main() {
	out := flag.String("out", "_output/images", "directory the layouts and tarballs go to")
	version := flag.String("version", "", "image version and tag, e.g. v0.1.0")
	revision := flag.String("revision", "", "git revision the images are built from")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH of the binaries and images")
	flag.Parse()
	if *version == "" || *revision == "" {
		fmt.Fprintln(os.Stderr, "ociimage: -version and -revision are required")
		os.Exit(2)
	}
	start := time.Now()
	ims, err := ociimage.BuildAll(context.Background(), ".", *out, *arch, *version, *revision)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
	for _, im := range ims {
		fmt.Printf("%s: %s/%s (layout), %s/%s.tar\n", im.Ref(), *out, im.Name, *out, im.Name)
	}
	fmt.Printf("built in %s\n", time.Since(start).Round(time.Millisecond))
}
