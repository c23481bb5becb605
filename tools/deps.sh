#!/usr/bin/env bash
# Install the Debian packages xtrunk needs to build, test and benchmark.
# Usage: tools/deps.sh [bench]
# Idempotent: does nothing when everything is already installed.
set -euo pipefail

PACKAGES=(
	# build: BPF objects, skeletons, userspace
	make gcc clang llvm bpftool pkg-config
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev linux-libc-dev
	libsrtp2-dev libsofia-sip-ua-dev
	# make fuzz: libFuzzer's runtime for clang
	libclang-rt-14-dev
	# tests and the demo: namespaces, veth, offload settings, JSON output checks,
	# SIP peers (SIPp) and packet captures (tshark), a Prometheus server and
	# promtool for the metrics test
	iproute2 ethtool jq util-linux procps sip-tester tshark curl gzip prometheus
	# two real SIP phones for test_phones.sh (headless: sine tone in, WAV out)
	baresip
	# the style check
	clang-format
)
# tools/deps.sh bench: also what make bench needs, plots and rtpengine's
# userspace relay (a baseline, run by the benchmark itself in a namespace)
[[ ${1:-} != bench ]] || PACKAGES+=(gnuplot-nox rtpengine-daemon)

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
# The benchmark runs its own rtpengine in a namespace: the package's system
# service, which installing it starts where systemd runs, is not wanted.
if [[ " ${missing[*]} " == *" rtpengine-daemon "* && -d /run/systemd/system ]]; then
	$SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
fi
