#!/usr/bin/env bash
# Builds the controller and speaker images from Dockerfile.controller and
# Dockerfile.speaker with the first usable container tool: docker (with a
# running engine), podman, or buildah. Without one it says so and points at
# `make images-oci`, which needs none.
#
#   build.sh VERSION REVISION
set -euo pipefail
version=${1:?version}
revision=${2:?revision}
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

tool=""
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
	tool=docker
elif command -v podman >/dev/null; then
	tool=podman
elif command -v buildah >/dev/null; then
	tool=buildah
fi
if [[ -z "$tool" ]]; then
	echo "no usable container tool: docker (with a running engine), podman or buildah is needed." >&2
	echo "To build the images without one, run: make images-oci" >&2
	exit 1
fi
echo "building the images with $tool" >&2
for c in controller speaker; do
	ref="ghcr.io/heraldlb/herald-$c:v$version"
	args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision" -f "Dockerfile.$c" -t "$ref" .)
	case $tool in
	buildah) buildah bud "${args[@]}" ;;
	*) "$tool" build "${args[@]}" ;;
	esac
	echo "built $ref" >&2
done
