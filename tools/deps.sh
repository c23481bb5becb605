#!/usr/bin/env bash
# Install the Debian packages xtrunk needs to build, test and benchmark.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(
	# build: BPF objects, skeletons, userspace
	make gcc clang llvm bpftool pkg-config
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev linux-libc-dev
	libsrtp2-dev libsofia-sip-ua-dev
	# tests and the demo: namespaces, veth, offload settings, JSON output checks,
	# SIP peers (SIPp) and packet captures (tshark), a Prometheus server and
	# promtool for the metrics test
	iproute2 ethtool jq util-linux procps sip-tester tshark curl gzip prometheus
	# the style check
	clang-format
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all ${#PACKAGES[@]} packages installed"
	exit 0
fi

SUDO=
[[ $(id -u) -eq 0 ]] || SUDO=sudo
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
