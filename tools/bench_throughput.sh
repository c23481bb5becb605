#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Relay throughput and capacity on veth, measured with tools/rtpgen (traffic
# made in the kernel with BPF_PROG_TEST_RUN live frames, counted and dropped
# by an XDP sink):
#
#   generator (eth0) ==veth== (left0) relay (right0) ==veth== (eth0) sink
#
# 1. packets/s the relay forwards flat out: xtrunk's XDP relay against a bare
#    XDP redirect forwarder (no parsing, no lookup) on the same devices, in
#    the same run, with 1 and with 20,000 flows.
# 2. capacity: paced G.711 streams (50 packets/s each) relayed with loss under
#    0.1%, counting only what reached the relay (the generator's own transmit
#    drops, ring overflows on the sending veth, are reported apart).
#
# Generator, relay and sink share one CPU (veth runs the receiver's NAPI on
# the sender's CPU): absolute figures describe this VM, the ratio is the point.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
source "$ROOT/tools/netns.sh"

TAG=$$
NS_GEN=xtg-gen-$TAG
NS_RELAY=xtg-relay-$TAG
NS_SINK=xtg-sink-$TAG
PIN=/sys/fs/bpf/xtrunk-throughput-$TAG
SECONDS_FLAT=${SECONDS_FLAT:-2}
SECONDS_PACED=${SECONDS_PACED:-3}
MAX_FLOWS=20000
CPU=$(($(nproc) - 1))

cleanup() {
	if [[ -e $PIN ]]; then
		ctl iface detach left0 >/dev/null 2>&1 || true
		ctl iface detach right0 >/dev/null 2>&1 || true
	fi
	for ns in "$NS_GEN" "$NS_RELAY" "$NS_SINK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$PIN" "${FLOWS:-}"
}
trap cleanup EXIT

ctl() { nsenter --net="/run/netns/$NS_RELAY" "$BUILD/xtrunkctl" --pin-dir "$PIN" "$@"; }

tx_errors() {
	ip netns exec "$NS_GEN" ethtool -S eth0 | awk '/xdp_xmit_errors/ {print $2; exit}' ||
		echo 0
}

# rtpgen ARGS...: prints "sent received tx_errors pps"
rtpgen() {
	local before after line
	before=$(tx_errors)
	line=$(taskset -c "$CPU" "$BUILD/rtpgen" --gen "$NS_GEN:eth0" --dst-mac "$RELAY_MAC" \
		--src 10.66.1.2 --dst 10.66.1.1 --dst-port 20000 --sink "$NS_SINK:eth0" \
		--sink-port 20000 "$@")
	after=$(tx_errors)
	awk -v err=$((${after:-0} - ${before:-0})) \
		'{for (i = 1; i < NF; i++) v[$i] = $(i + 1); print v["sent"], v["received"], err, v["received_pps"]}' \
		<<<"$line"
}

install_flows() {
	local n=$1 i
	FLOWS=$(mktemp)
	for ((i = 0; i < n; i++)); do
		echo "flow add 10.66.1.1:$((20000 + 2 * i)) to 10.66.2.2:$((20000 + 2 * i)) via 10.66.2.1:$((20000 + 2 * i)) from 10.66.1.2:0"
	done >"$FLOWS"
	ctl batch file "$FLOWS" >/dev/null
}

three_hosts "$NS_GEN" "$NS_RELAY" "$NS_SINK" 10.66.1 10.66.2 fd66:1 fd66:2
RELAY_MAC=$(ip -n "$NS_RELAY" -j link show left0 | jq -r '.[0].address')

# --- 1. flat out: bare forwarder vs xtrunk ---
read -r _ bare_rx _ bare_pps < <(rtpgen --streams 1 --seconds "$SECONDS_FLAT" \
	--forward "$NS_RELAY:left0:right0")

ctl iface attach left0 >/dev/null
ctl iface attach right0 >/dev/null
install_flows "$MAX_FLOWS"
read -r _ _ _ one_pps < <(rtpgen --streams 1 --seconds "$SECONDS_FLAT")
read -r _ _ _ many_pps < <(rtpgen --streams "$MAX_FLOWS" --seconds "$SECONDS_FLAT")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g ? "met" : "MISSED") }'; }
mpps() { awk -v p="$1" 'BEGIN { printf "%.2f", p / 1e6 }'; }

r1=$(ratio "$one_pps" "$bare_pps")
r2=$(ratio "$many_pps" "$bare_pps")
printf 'throughput  bare XDP redirect %s Mpps  xtrunk 1 flow %s Mpps  ratio %s (goal >= 0.90) %s\n' \
	"$(mpps "$bare_pps")" "$(mpps "$one_pps")" "$r1" "$(verdict "$r1" 0.9)"
printf 'throughput  bare XDP redirect %s Mpps  xtrunk %d flows %s Mpps  ratio %s (goal >= 0.90) %s\n' \
	"$(mpps "$bare_pps")" "$MAX_FLOWS" "$(mpps "$many_pps")" "$r2" "$(verdict "$r2" 0.9)"

# --- 2. capacity: paced streams with loss under 0.1% ---
best=0
for streams in 1000 5000 10000 20000; do
	read -r sent received errors pps < <(rtpgen --streams "$streams" --rate 50 \
		--seconds "$SECONDS_PACED")
	reached=$((sent - errors))
	loss=$(awk -v r="$reached" -v g="$received" 'BEGIN { printf "%.3f", r ? 100 * (r - g) / r : 100 }')
	ok=$(awk -v l="$loss" 'BEGIN { print (l < 0.1 ? 1 : 0) }')
	printf 'capacity    %5d one-way G.711 streams (= %5d two-way calls)' "$streams" $((streams / 2))
	printf '  relayed %s pps  loss %s%% at the relay  generator tx drops %d  %s\n' \
		"${pps%.*}" "$loss" "$errors" "$([[ $ok == 1 ]] && echo ok || echo 'over 0.1%')"
	[[ $ok == 1 ]] || break
	best=$streams
done
printf 'capacity    largest paced load tried with loss under 0.1%%: %d streams = %d two-way G.711 calls (generator, relay and sink on one core)\n' \
	"$best" $((best / 2))
