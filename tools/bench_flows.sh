#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The flow table at scale (make bench, section "flows"):
#
#   generator (eth0) ==veth== (left0) relay (right0) ==veth== (eth0) sink
#
# 1. time to install and to remove 1,000,000 flows with batched map updates
#    (tools/bench_flows.c on userspace/lib/flow_batch.c), from an empty table;
# 2. kernel memory per flow: the memlock of the maps with an entry per flow
#    (flows, their slow part, RTP statistics; 16 address slots: 1,048,576
#    entries each) divided by the flows installed;
# 3. packets/s xtrunk relays with the traffic spread round robin over 1,000
#    flows and over 1,000,000 (and 10,000, 100,000 on the way, for the plot),
#    tools/rtpgen flat out, one stream per flow. The flows sit on 16 relay
#    addresses (10.68.0.1-16, 62,500 ports each: RTP and RTCP ports alike),
#    as a million flows need (one address has 64k ports). The bare XDP
#    forwarder with the same stream counts shows the generator and sink do
#    not slow down with the stream count themselves.
#
# Every throughput figure is the best of 3 runs of 2 s (ROUNDS, SECONDS_FLAT).
# Generator, relay and sink share one CPU. Goals: 1M flows installed in under
# 5 s; at most 128 bytes of map memory per flow; 1M flows at most 1.3x slower
# than 1k. Then what one cache miss costs on this machine (tools/memlat), to
# read the scale figure against. With BENCH_OUT set, also writes
# $BENCH_OUT/flows.dat (plot data).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
source "$ROOT/tools/netns.sh"

TAG=$$
NS_GEN=xtf-gen-$TAG
NS_RELAY=xtf-relay-$TAG
NS_SINK=xtf-sink-$TAG
PIN=/sys/fs/bpf/xtrunk-flows-$TAG
SECONDS_FLAT=${SECONDS_FLAT:-2}
ROUNDS=${ROUNDS:-3} # each figure: the best of this many runs (other load only slows a run down)
SLOTS=16
PORTS_PER_ADDR=62500
FIRST_PORT=2000
RELAY_BASE=10.68.0.1
MANY=1000000
FEW=1000
CPU=$(($(nproc) - 1))
GOAL_INSTALL_S=5
GOAL_BYTES=128
GOAL_SCALE=1.3

cleanup() {
	if [[ -e $PIN ]]; then
		ctl iface detach left0 >/dev/null 2>&1 || true
		ctl iface detach right0 >/dev/null 2>&1 || true
	fi
	for ns in "$NS_GEN" "$NS_RELAY" "$NS_SINK"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$PIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_relay() { nsenter --net="/run/netns/$NS_RELAY" "$@"; }
ctl() { in_relay "$BUILD/xtrunkctl" --pin-dir "$PIN" "$@"; }

# flows COMMAND N: prints the tool's line
flows() {
	in_relay "$BUILD/bench_flows" --pin-dir "$PIN" --flows "$2" --relay-base "$RELAY_BASE" \
		--ports-per-addr "$PORTS_PER_ADDR" --first-port "$FIRST_PORT" \
		--via 10.67.2.1 --peer 10.67.2.2 --src 10.67.1.2 "$1"
}

# field NAME LINE: the value after NAME in a "name value ..." line
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$2"; }

# rtpgen STREAMS [ARGS...]: packets/s received flat out, the best of ROUNDS runs
rtpgen() {
	local streams=$1 line pps best=0
	shift
	for _ in $(seq "$ROUNDS"); do
		line=$(taskset -c "$CPU" "$BUILD/rtpgen" --gen "$NS_GEN:eth0" --dst-mac "$RELAY_MAC" \
			--src 10.67.1.2 --dst "$RELAY_BASE" --dst-port "$FIRST_PORT" --port-step 1 \
			--ports-per-addr "$PORTS_PER_ADDR" --sink "$NS_SINK:eth0" --streams "$streams" \
			--seconds "$SECONDS_FLAT" "$@")
		pps=$(field received_pps "$line")
		[[ ${pps:-0} -le $best ]] || best=$pps
	done
	echo "$best"
}

mpps() { awk -v p="$1" 'BEGIN { printf "%.2f", p / 1e6 }'; }

for tool in rtpgen bench_flows xtrunkctl; do
	[[ -x $BUILD/$tool ]] || { echo "bench_flows: $BUILD/$tool is missing: run make first" >&2; exit 1; }
done
mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf
three_hosts "$NS_GEN" "$NS_RELAY" "$NS_SINK" 10.67.1 10.67.2 fd67:1 fd67:2
RELAY_MAC=$(_mac "$NS_RELAY" left0)

# --- the baseline: the bare forwarder, same stream counts ---
bare_few=$(rtpgen "$FEW" --forward "$NS_RELAY:left0:right0")
bare_many=$(rtpgen "$MANY" --forward "$NS_RELAY:left0:right0")

ctl iface attach left0 slots "$SLOTS" >/dev/null
ctl iface attach right0 >/dev/null

# --- 1k flows ---
line=$(flows add "$FEW")
few_add_s=$(field seconds "$line")
few_pps=$(rtpgen "$FEW")
flows del "$FEW" >/dev/null

# --- 1M flows, from an empty table ---
line=$(flows add "$MANY")
add_s=$(field seconds "$line")
mem=$(flows memory "$MANY")
# What the batch wrote is what xt_flow_add would have: read two flows back.
for i in 0 $((MANY - 1)); do
	local_ep=10.68.0.$((1 + i / PORTS_PER_ADDR)):$((FIRST_PORT + i % PORTS_PER_ADDR))
	got=$(ctl -j flow show "$local_ep" | jq -r '[.to, .via, .from, .dscp, (.nexthop != null)] | @tsv')
	want=$(printf '10.67.2.2:%d\t10.67.2.1:%d\t10.67.1.2:*\t46\ttrue' \
		$((1024 + i % 64000)) $((FIRST_PORT + i % PORTS_PER_ADDR)))
	[[ $got == "$want" ]] || { echo "bench_flows: flow $local_ep reads back as '$got', not '$want'" >&2; exit 1; }
done
per_flow=$(field bytes_per_flow "$mem")
declare -A pps=([$FEW]=$few_pps)
for n in 10000 100000 "$MANY"; do
	pps[$n]=$(rtpgen "$n")
done
# The traffic really was spread: the first and the last flow relayed packets.
for local in "${RELAY_BASE}:$FIRST_PORT" "10.68.0.16:$((FIRST_PORT + PORTS_PER_ADDR - 1))"; do
	relayed=$(ctl -j flow show "$local" | jq -r '.packets // 0')
	[[ $relayed -gt 0 ]] || echo "flows       WARNING: flow $local relayed no packet: the 1M figure is not spread" >&2
done
line=$(flows del "$MANY")
del_s=$(field seconds "$line")
if ctl flow show "10.68.0.16:$((FIRST_PORT + PORTS_PER_ADDR - 1))" >/dev/null 2>&1; then
	echo "bench_flows: a flow is still there after the batched removal" >&2
	exit 1
fi

verdict() { awk -v v="$1" -v g="$2" -v le="$3" 'BEGIN { ok = le ? v <= g : v >= g; print (ok ? "met" : "MISSED") }'; }
scale=$(awk -v a="$few_pps" -v b="${pps[$MANY]}" 'BEGIN { printf "%.2f", b ? a / b : 99 }')

printf 'flows       install %d flows (batched, from empty) %.2f s  (%d flows %.3f s)  goal < %d s %s\n' \
	"$MANY" "$add_s" "$FEW" "$few_add_s" "$GOAL_INSTALL_S" "$(verdict "$add_s" "$GOAL_INSTALL_S" 1)"
printf 'flows       remove %d flows (batched) %.2f s  goal < %d s %s\n' \
	"$MANY" "$del_s" "$GOAL_INSTALL_S" "$(verdict "$del_s" "$GOAL_INSTALL_S" 1)"
printf 'flows       kernel memory %.1f bytes/flow at %d flows (xt_flows %d + xt_flows_slow %d + xt_rtp_stats %d bytes, %d entries of %d + %d + %d B)  goal <= %d %s\n' \
	"$per_flow" "$MANY" "$(field flows_map_bytes "$mem")" "$(field flows_slow_map_bytes "$mem")" \
	"$(field rtp_stats_map_bytes "$mem")" "$(field capacity "$mem")" "$(field flow_value "$mem")" \
	"$(field flow_slow_value "$mem")" "$(field rtp_stats_value "$mem")" \
	"$GOAL_BYTES" "$(verdict "$per_flow" "$GOAL_BYTES" 1)"
printf 'flows       bare XDP redirect %s Mpps with %d streams, %s Mpps with %d (generator and sink alone)\n' \
	"$(mpps "$bare_few")" "$FEW" "$(mpps "$bare_many")" "$MANY"
for n in "$FEW" 10000 100000 "$MANY"; do
	printf 'flows       xtrunk, traffic spread over %7d flows (%7d installed): %s Mpps  (%.2f of bare)\n' \
		"$n" "$([[ $n == "$FEW" ]] && echo "$FEW" || echo "$MANY")" "$(mpps "${pps[$n]}")" \
		"$(awk -v a="${pps[$n]}" -v b="$bare_many" 'BEGIN { print b ? a / b : 0 }')"
done
printf 'flows       scale %d vs %d flows: %s vs %s Mpps, slowdown %sx  goal <= %s %s\n' \
	"$MANY" "$FEW" "$(mpps "${pps[$MANY]}")" "$(mpps "$few_pps")" "$scale" "$GOAL_SCALE" \
	"$(verdict "$scale" "$GOAL_SCALE" 1)"

# What a cache miss costs here, to read the scale figure against: a packet
# at 1M flows reads its flow's line (and an RTP flow's statistics) from a
# table far larger than the caches.
table_mib=$(awk -v b="$(field flows_map_bytes "$mem")" -v r="$(field rtp_stats_map_bytes "$mem")" \
	'BEGIN { printf "%d", (b + r) / 1048576 }')
lat=$(taskset -c "$CPU" "$BUILD/memlat" -n 5000000 1 "$table_mib")
lat_l2=$(awk '$2 == 1 && $4 == "4K" { print $5 }' <<<"$lat")
lat_4k=$(awk -v m="$table_mib" '$2 == m && $4 == "4K" { print $5 }' <<<"$lat")
lat_2m=$(awk -v m="$table_mib" '$2 == m && $4 == "2M" && $5 != "unavailable" { print $5 }' <<<"$lat")
awk -v few="$few_pps" -v many="${pps[$MANY]}" -v g="$GOAL_SCALE" -v l2="$lat_l2" -v l4k="$lat_4k" \
	-v l2m="${lat_2m:-}" -v mib="$table_mib" 'BEGIN {
	a = 1e9 / few; b = 1e9 / many
	printf "flows       memory: a dependent load costs %.1f ns within 1 MiB (L2), %.1f ns across %d MiB (the 1M-flow table) on 4 KiB pages%s (tools/memlat)\n", \
		l2, l4k, mib, (l2m != "" ? sprintf(", %.1f on 2 MiB pages", l2m) : "")
	printf "flows       scale: a packet costs %.0f ns at %d flows, %.0f ns at 1M: +%.0f ns, %.2f cold loads; %.1fx the first cost would allow +%.0f ns, %.2f of one\n", \
		a, '"$FEW"', b, b - a, (b - a) / l4k, g, (g - 1) * a, (g - 1) * a / l4k
}'

if [[ -n ${BENCH_OUT:-} ]]; then
	{
		echo "# flows xtrunk_pps bare_pps"
		for n in "$FEW" 10000 100000 "$MANY"; do
			echo "$n ${pps[$n]} $([[ $n == "$FEW" ]] && echo "$bare_few" || echo "$bare_many")"
		done
	} >"$BENCH_OUT/flows.dat"
fi
