#!/usr/bin/env bash
# Builds MetalLB's speaker at the version pinned in this module's go.mod into
# a per-machine cache, and prints the binary's path. The lab runs it beside
# Herald's speakers to measure the switch-over of a migration.
#
#   --check   print the path and exit 0 if it is built, exit 3 if not
#   --crds    print the directory of MetalLB's CRDs in the module cache
#   HERALD_METALLB_CACHE  cache root (default: ~/.cache/herald/metallb)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

version=$(awk '$1=="require" && $2=="go.universe.tf/metallb" {print $3; exit}' go.mod)
if [[ "${1:-}" == --crds ]]; then
	go mod download go.universe.tf/metallb
	echo "$(go list -m -f '{{.Dir}}' go.universe.tf/metallb)/config/crd/bases"
	exit 0
fi
key=$(cat go.mod go.sum | sha256sum | cut -c1-12)
root=${HERALD_METALLB_CACHE:-$HOME/.cache/herald/metallb}
bin="$root/metallb-$version-$(go env GOVERSION)-$key/speaker"
if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi
if [[ "${1:-}" == --check ]]; then
	echo "MetalLB's speaker is not built yet; run: bash internal/tools/metallb/build.sh" >&2
	exit 3
fi
echo "building MetalLB's speaker $version into $bin" >&2
mkdir -p "$(dirname "$bin")"
CGO_ENABLED=0 go build -trimpath -o "$bin.tmp.$$" go.universe.tf/metallb/speaker
mv "$bin.tmp.$$" "$bin"
echo "$bin"
