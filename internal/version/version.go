// Package version names the build: the release and the git revision, set
// with -ldflags -X at build time, the revision falling back to the VCS
// stamp the go command embeds when a checkout is built without them.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Revision are set by the linker:
//
//	-X github.com/heraldlb/herald/internal/version.Version=v0.1.0
//	-X github.com/heraldlb/herald/internal/version.Revision=<git sha>
var (
	Version  = "dev"
	Revision = ""
)

// String is the line --version prints, e.g.
// "herald-controller v0.1.0 (revision abc123, go1.26.8, linux/amd64)".
func String(program string) string {
	return format(program, Version, revision(Revision, debug.ReadBuildInfo))
}

func format(program, version, rev string) string {
	return fmt.Sprintf("%s %s (revision %s, %s, %s/%s)",
		program, version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// revision prefers the linker's value; without it, the vcs.revision the go
// command stamps; without that (a build outside a checkout), "unknown".
func revision(set string, info func() (*debug.BuildInfo, bool)) string {
	if set != "" {
		return set
	}
	if bi, ok := info(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}
