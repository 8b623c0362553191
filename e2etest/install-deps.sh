#!/usr/bin/env bash
# Installs the Debian packages the network lab needs: FRR for the router,
# nftables for the nodes' stand-in for kube-proxy, and the probe tools the
# clients use. Idempotent: when everything is present it only checks and exits.
set -euo pipefail

packages=(frr nftables arping ndisc6 iputils-ping curl iproute2 util-linux procps)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root (the lab needs root anyway)" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps FRR's optional extras out. The lab runs its
# own zebra and bgpd per namespace, so the system frr service is not needed.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl disable --now frr >/dev/null 2>&1 || true
fi
