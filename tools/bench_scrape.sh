#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# What a Prometheus scrape of xtrunkd costs with 100,000 flows installed,
# against a scrape with none in the same run (the ratio is what to read).
# xtrunkd runs in a relay namespace of its own (tools/netns.sh: PBX, relay,
# trunk), with XDP attached; the flows go into its pinned maps through
# xtrunkctl batch, half of them RTP flows (quality tracked, as a call's are),
# half RTCP, on two relay addresses. /metrics is fetched SCRAPES times in each
# state, uncompressed; the median and the fastest are reported.
#
# Usage: tools/bench_scrape.sh [FLOWS]   (default 100000; needs root)
#   RTP=0: no flow tracks RTP quality; SCRAPES=N: scrapes per state (20)
# Prints one figure per line, last on the line, after the state it was
# measured in ("flows N": flows installed):
#   scrape  flows 0  median_ms 0.611
#   scrape  flows 0  min_ms 0.449
#   scrape  flows 2  median_ms 2.115      one flow per relay address
#   scrape  flows 100000  install_s 5.5   xtrunkctl batch of the flows
#   scrape  flows 100000  median_ms 26.276
#   scrape  flows 100000  ratio_to_0_flows 43.0
#   scrape  flows 100000  us_per_flow 0.257
# and, with strace installed, the system calls of one scrape that read maps:
#   scrape  flows 100000  bpf_calls 47
#   scrape  flows 100000  mmap_calls 5    mmap and munmap, the daemon's own too
# Grep them: grep 'flows 100000  median_ms' | awk '{ print $NF }'.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
FLOWS=${1:-100000}
SCRAPES=${SCRAPES:-20}
TAG=$$
NS_P=xts-pbx-$TAG
NS_R=xts-relay-$TAG
NS_T=xts-trunk-$TAG
PIN=/sys/fs/bpf/xtrunk-scrape-$TAG
WORK=$(mktemp -d /tmp/xtrunk-scrape.XXXXXX)
METRICS=127.0.0.1:9477
XTRUNKCTL=$BUILD/xtrunkctl
XD_PID=
ST_PID=

# shellcheck source=tools/netns.sh
source "$ROOT/tools/netns.sh"

die() {
	echo "bench_scrape: $*" >&2
	exit 1
}

cleanup() {
	if [[ -n $ST_PID ]]; then
		kill "$ST_PID" 2>/dev/null || true
		wait "$ST_PID" 2>/dev/null || true
	fi
	if [[ -n $XD_PID ]] && kill -0 "$XD_PID" 2>/dev/null; then
		kill "$XD_PID"
		for _ in $(seq 100); do
			kill -0 "$XD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$XD_PID" 2>/dev/null || true
		wait "$XD_PID" 2>/dev/null || true
	fi
	ns_ctl iface detach left0 >/dev/null 2>&1 || true
	ns_ctl iface detach right0 >/dev/null 2>&1 || true
	rm -rf "$PIN" "$WORK"
	ip netns del "$NS_P" 2>/dev/null || true
	ip netns del "$NS_R" 2>/dev/null || true
	ip netns del "$NS_T" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_ctl() { nsenter --net="/run/netns/$NS_R" "$XTRUNKCTL" --pin-dir "$PIN" "$@"; }

[[ $(id -u) -eq 0 ]] || die "needs root (BPF, network namespaces)"
[[ -x $BUILD/xtrunkd && -x $XTRUNKCTL ]] || die "$BUILD/xtrunkd or xtrunkctl missing: run make"
((FLOWS <= 120000)) || die "at most 120000 flows (two relay addresses, 60000 ports each)"
mount | grep -q ' /sys/fs/bpf type bpf' || mount -t bpf bpf /sys/fs/bpf

three_hosts "$NS_P" "$NS_R" "$NS_T" 10.93.1 10.93.2 fd93:1 fd93:2
cat >"$WORK/xtrunkd.conf" <<EOF
[relay]
pin_dir = $PIN
metrics = $METRICS
control = off

[side pbx]
interface = left0
address = 10.93.1.1
ports = 64000-64099
sip = 10.93.1.1:5060
peer = 10.93.1.2:5060

[side trunk]
interface = right0
address = 10.93.2.1
ports = 65000-65099
sip = 10.93.2.1:5060
peer = 10.93.2.2:5060
EOF
nsenter --net="/run/netns/$NS_R" "$BUILD/xtrunkd" -c "$WORK/xtrunkd.conf" >"$WORK/xtrunkd.log" 2>&1 &
XD_PID=$!
for _ in $(seq 150); do
	grep -qs 'xtrunkd: ready' "$WORK/xtrunkd.log" && break
	kill -0 "$XD_PID" 2>/dev/null || break
	sleep 0.1
done
grep -qs 'xtrunkd: ready' "$WORK/xtrunkd.log" || {
	cat "$WORK/xtrunkd.log" >&2
	die "xtrunkd did not start"
}

# scrape_ms: one GET /metrics, in milliseconds; the body goes to $WORK/body.
scrape_ms() {
	ip netns exec "$NS_R" curl -sS --max-time 30 -o "$WORK/body" -w '%{time_total}\n' \
		"http://$METRICS/metrics" | awk '{ printf "%.3f\n", $1 * 1000 }'
}

# figure FLOWS NAME VALUE: one result line.
figure() {
	printf 'scrape  flows %d  %s %s\n' "$1" "$2" "$3"
}

# measure FLOWS: SCRAPES scrapes after one to warm up; prints the median and
# the fastest, leaves the median in MEDIAN.
MEDIAN=
measure() {
	local times
	scrape_ms >/dev/null
	times=$(for _ in $(seq "$SCRAPES"); do scrape_ms; done | sort -n)
	MEDIAN=$(awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' <<<"$times")
	figure "$1" median_ms "$MEDIAN"
	figure "$1" min_ms "$(head -1 <<<"$times")"
}

# count_calls FLOWS: the system calls one scrape makes to read the maps:
# bpf(2) (batched reads make one per 4096 ports that hold flows, a lookup per
# flow one or more per flow) and mmap/munmap (a mapped map costs one each per
# relay address; the daemon's allocator makes some of its own). The fewest of
# three scrapes: xtrunkd has periodic work of its own (the next-hop refresh
# reads its table) that a scrape may happen to overlap.
count_calls() {
	local bpf=-1 mm=-1 n
	command -v strace >/dev/null || return 0
	for _ in 1 2 3; do
		strace -f -c -e trace=bpf,mmap,munmap -o "$WORK/strace" -p "$XD_PID" 2>/dev/null &
		ST_PID=$!
		sleep 0.5
		scrape_ms >/dev/null
		sleep 0.2
		kill -INT "$ST_PID" 2>/dev/null || true
		wait "$ST_PID" 2>/dev/null || true
		ST_PID=
		n=$(awk '$NF == "bpf" { n += $4 } END { print n + 0 }' "$WORK/strace")
		((bpf >= 0 && bpf <= n)) || bpf=$n
		n=$(awk '$NF == "mmap" || $NF == "munmap" { n += $4 } END { print n + 0 }' "$WORK/strace")
		((mm >= 0 && mm <= n)) || mm=$n
	done
	figure "$1" bpf_calls "$bpf"
	figure "$1" mmap_calls "$mm"
}

measure 0
base=$MEDIAN
count_calls 0

# The flows, as calls would have them: an RTP flow (quality tracked) and an
# RTCP flow per port pair, from the PBX address to a peer behind the trunk.
awk -v n="$FLOWS" -v with_rtp="${RTP:-1}" 'BEGIN {
	for (i = 0; i < n; i++) {
		addr = i < 60000 ? "10.93.1.1" : "10.93.2.1"
		port = 2000 + i % 60000
		peer = 10000 + i % 50000
		rtp = port % 2 || !with_rtp ? "" : " rtp 8000"
		printf "flow add %s:%d to 10.93.2.2:%d via 10.93.2.1:%d from 10.93.1.2:0%s\n",
			addr, port, peer, port, rtp
	}
}' >"$WORK/flows.batch"

# First one flow per relay address: what scanning their address slots costs
# (each slot's 65536 flow entries are looked at, whatever it holds), apart
# from the flows in them.
awk 'NR == 1 || NR == 60001' "$WORK/flows.batch" >"$WORK/first.batch"
awk 'NR != 1 && NR != 60001' "$WORK/flows.batch" >"$WORK/rest.batch"
ns_ctl batch file "$WORK/first.batch" >/dev/null 2>"$WORK/batch.err" ||
	die "xtrunkctl batch failed: $(tail -2 "$WORK/batch.err")"
measure "$(wc -l <"$WORK/first.batch")"
count_calls "$(wc -l <"$WORK/first.batch")"

t0=$(date +%s.%N)
ns_ctl batch file "$WORK/rest.batch" >/dev/null 2>"$WORK/batch.err" ||
	die "xtrunkctl batch failed: $(tail -2 "$WORK/batch.err")"
t1=$(date +%s.%N)
installed=$(ns_ctl -j flow list | jq length)
[[ $installed -ge $FLOWS ]] || die "only $installed flows installed"
figure "$FLOWS" install_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"

measure "$FLOWS"
full=$MEDIAN
count_calls "$FLOWS"
figure "$FLOWS" ratio_to_0_flows "$(awk -v b="$base" -v f="$full" 'BEGIN { printf "%.1f", (b > 0 ? f / b : 0) }')"
figure "$FLOWS" us_per_flow "$(awk -v b="$base" -v f="$full" -v n="$FLOWS" 'BEGIN { printf "%.3f", (f - b) * 1000 / n }')"
