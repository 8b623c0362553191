// Package dockerfilepolicy checks that a Dockerfile builds the kind of image
// Herald ships: multi-stage, every base pinned by digest, a static Go binary,
// and a final stage with no shell that runs as a non-root uid. It parses with
// BuildKit's own Dockerfile parser, so a rule reads instructions the way
// docker build does, not lines that merely look like them.
package dockerfilepolicy
