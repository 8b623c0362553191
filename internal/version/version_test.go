package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestRevision(t *testing.T) {
	stamped := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fromvcs"}}}, true
	}
	bare := func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{}, true }
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tc := range []struct {
		name, set string
		info      func() (*debug.BuildInfo, bool)
		want      string
	}{
		{"ldflags win over vcs", "fromldflags", stamped, "fromldflags"},
		{"vcs fallback", "", stamped, "fromvcs"},
		{"no vcs stamp", "", bare, "unknown"},
		{"no build info", "", none, "unknown"},
	} {
		if got := revision(tc.set, tc.info); got != tc.want {
			t.Errorf("%s: revision = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	want := "herald-controller v0.1.0 (revision abc123, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := format("herald-controller", "v0.1.0", "abc123"); got != want {
		t.Errorf("format = %q, want %q", got, want)
	}
}
