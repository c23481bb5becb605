#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Where the relay's nanoseconds go (make bench, section "xdp_steps"): the
# bench program is built once whole and once without each step of the relay
# (bpf/ablation.h, -DXT_WITHOUT_<STEP>), each build's own cost a packet
# (relay - baseline, tools/bench_xdp) is measured in turn, round after round,
# and a step's cost is what leaving it out saves: the median over the rounds.
# RTP statistics are the difference between flows with and without them.
# What no step accounts for is parsing, the four table lookups (relay
# address, flow, its leaving address, next hop) and the verdict.
#
# Run by tools/bench.sh inside its lab: NS, RELAY_DEV, RELAY_ADDR, PEER_NET,
# SOURCE_ADDR and BENCH_CPU come from there. Steps cost a few ns each, so the
# figures are only as good as the machine is quiet: the spread of the full
# build's rounds is printed beside them.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
ROUNDS=${STEP_ROUNDS:-5}
FLOWS=${STEP_FLOWS:-1,10000}
STEPS=(SOURCE_CHECK TX_PORT_CHECK PARTIAL_TEST REWRITE MACS FLOW_COUNTERS LAST_SEEN GLOBAL_COUNTERS)
declare -A LABEL=(
	[RTP_STATS]="RTP statistics (sequence, loss, sampled jitter)"
	[SOURCE_CHECK]="source check"
	[TX_PORT_CHECK]="transmit-table check (XDP_TX)"
	[PARTIAL_TEST]="partial-checksum test"
	[REWRITE]="header rewrite and both checksums"
	[MACS]="MAC rewrite"
	[FLOW_COUNTERS]="flow packet and byte counters"
	[LAST_SEEN]="flow last-seen time"
	[GLOBAL_COUNTERS]="global per-CPU counters"
)

WORK=$(mktemp -d /tmp/xtrunk-steps.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
M=$(uname -m)
ARCH=${M/x86_64/x86}
ARCH=${ARCH/aarch64/arm64}

# build NAME [CLANG_FLAGS...]: $WORK/NAME/bench_xdp, its program built with the flags
build() {
	local dir=$WORK/$1
	shift
	mkdir -p "$dir"
	clang -O2 -g -target bpf -mcpu=v3 "-D__TARGET_ARCH_$ARCH" "-I/usr/include/$M-linux-gnu" \
		-I"$ROOT/bpf" -Wall -Werror "$@" -c "$ROOT/bpf/bench.bpf.c" -o "$dir/bench.bpf.o"
	bpftool gen skeleton "$dir/bench.bpf.o" name bench_bpf >"$dir/bench.skel.h"
	gcc -O2 -std=gnu11 -I"$dir" -I"$ROOT/bpf" -I"$ROOT/userspace/lib" \
		-o "$dir/bench_xdp" "$ROOT/tools/bench_xdp.c" "$BUILD/libxtrunk.a" \
		-lxdp -lbpf -lelf -lz
}

# own NAME [ARGS...]: "FLOWS NS" lines, the build's own cost per flow count
own() {
	local name=$1
	shift
	ip netns exec "$NS" taskset -c "$BENCH_CPU" "$WORK/$name/bench_xdp" -i "$RELAY_DEV" \
		--relay-addr "$RELAY_ADDR" --peer-net "$PEER_NET" --source "$SOURCE_ADDR" \
		-f "$FLOWS" -r 3 -n 1000000 "$@" |
		awk '/^own/ { sub(/flows=/, "", $2); print $2, $6 }'
}

build full
for step in "${STEPS[@]}"; do
	build "$step" "-DXT_WITHOUT_$step=1"
done

# One round: every build once, in turn, so drift hits them alike.
declare -A COST # [STEP,FLOWS] = space-separated savings, one per round
declare -A FULL # [FLOWS] = the full build's own cost, one per round
for ((round = 0; round < ROUNDS; round++)); do
	declare -A base=() plain=()
	while read -r n ns; do base[$n]=$ns; done < <(own full --rtp)
	while read -r n ns; do plain[$n]=$ns; done < <(own full)
	for n in "${!base[@]}"; do
		FULL[$n]+="${base[$n]} "
		COST[RTP_STATS,$n]+="$(awk -v a="${base[$n]}" -v b="${plain[$n]}" 'BEGIN { print a - b }') "
	done
	for step in "${STEPS[@]}"; do
		while read -r n ns; do
			COST[$step,$n]+="$(awk -v a="${base[$n]}" -v b="$ns" 'BEGIN { print a - b }') "
		done < <(own "$step" --rtp --ablated)
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f", lo, hi }'; }

IFS=, read -r -a counts <<<"$FLOWS"
echo "steps  where the relay's own ns/packet go (RTP flows, next hop cached): each step's cost is what a build without it saves, median of $ROUNDS rounds; bench_xdp, BPF_PROG_TEST_RUN"
for n in "${counts[@]}"; do
	full=$(median <<<"${FULL[$n]}")
	printf 'steps  flows=%-6s whole relay, own cost %5.1f ns/pkt (rounds %s)\n' "$n" "$full" "$(spread <<<"${FULL[$n]}")"
	rest=$full
	for step in RTP_STATS "${STEPS[@]}"; do
		c=$(median <<<"${COST[$step,$n]}")
		rest=$(awk -v r="$rest" -v c="$c" 'BEGIN { print r - c }')
		printf 'steps  flows=%-6s %-48s %5.1f ns\n' "$n" "${LABEL[$step]}" "$c"
	done
	printf 'steps  flows=%-6s %-48s %5.1f ns\n' "$n" "the rest: parse, 4 table lookups, verdict" "$rest"
done
