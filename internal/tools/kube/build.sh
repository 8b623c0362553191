#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from the versions pinned in this
# module's go.mod into a per-machine cache, and prints the directory that holds
# them. A second run with the same go.mod finds the cache and returns at once.
#
#   --check            print the directory and exit 0 if it is built, exit 3 if not
#   HERALD_KUBE_CACHE  cache root (default: ~/.cache/herald/kube)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

kube=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' go.mod)
etcd=$(awk '$1=="go.etcd.io/etcd/server/v3" {print $2; exit}' go.mod)
go_version=$(go env GOVERSION)
key=$(cat go.mod go.sum etcd/main.go | sha256sum | cut -c1-12)
root=${HERALD_KUBE_CACHE:-$HOME/.cache/herald/kube}
dir="$root/kubernetes-$kube-etcd-$etcd-$go_version-$key"

if [[ -x "$dir/kube-apiserver" && -x "$dir/etcd" && -x "$dir/kubectl" ]]; then
	echo "$dir"
	exit 0
fi
if [[ "${1:-}" == --check ]]; then
	echo "kube-apiserver, etcd and kubectl are not built yet; run: make kube-bins" >&2
	exit 3
fi

echo "building kube-apiserver $kube, kubectl $kube and etcd $etcd into $dir (about 8 minutes the first time)" >&2
tmp="$dir.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
export CGO_ENABLED=0
go build -trimpath -o "$tmp/etcd" ./etcd
go build -trimpath -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$dir"
